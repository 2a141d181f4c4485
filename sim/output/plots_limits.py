"""The pictures' size limits that both sides read: the data side decides with them what to draw, the drawing
side and the plot list (`plots.py`) name them in captions. Imports nothing, so that either side may import
it without the other's libraries (pandas on the data side, matplotlib on the drawing side)."""

from __future__ import annotations

MAX_VOLUME_INTERVALS = 1000
"""Past this many intervals the volume picture sums them by day: three bars an interval would be thinner
than a pixel (a year in hours is 26,280 bars in 900 pixels), and drawing them costs more than the picture."""
