"""The run report a manager opens: one self-contained `report.html` (pictures embedded as base64) with the
headline KPIs against the target (and the holds, callbacks, redials and experience figures when the scenario
has them), the intervals that missed it, per-department and agent-group tables, the plots, the model's
assumptions, the KPI definitions (quoted from `sim/analysis/metrics.py`), the scenario and the run facts.

This module assembles and writes the page; the tables live in `sim/output/report_tables.py` (the intervals in
`sim/output/report_intervals.py`), the assumptions and definitions in `sim/output/report_model.py`, the shared
formatting in `sim/output/report_format.py`.
`write_report(folder)` rebuilds `plots/` and `report.html` from the files of a saved results folder alone.
"""

from __future__ import annotations

import base64
import math
import shutil
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.analysis import kpis
from sim.analysis.thresholds import channel_threshold_words
from sim.model.durations import format_clock, format_duration
from sim.output.console import Features, features, lookup
from sim.output.drawing import draw_all
from sim.output.folders import new_staging, replace_folder
from sim.output.plots import WrittenPlot, sketches
from sim.output.report_format import Cell, esc, number, summary_ci, target_met, with_ci
from sim.output.report_goals import day_goals_table
from sim.output.report_intervals import intervals_section, kind_rows, missed_cells, missed_line
from sim.output.report_model import DEFINITIONS, assumptions, definitions
from sim.output.report_readable import code_spans, headless_table, readable_scenario
from sim.output.report_tables import departments_section, kpis_section
from sim.output.report_week import WEEK_TABLE, rebuild_week_report
from sim.output.saved import SavedRun, load_run

if TYPE_CHECKING:
    import pandas as pd

    from sim.output.drawer import ReportDrawer
    from sim.output.drawing import Job

# The public API; callers and tests import these from `sim.output.report`, wherever they are defined.
__all__ = [
    "DEFINITIONS",
    "ERROR",
    "PLOTS",
    "REPORT",
    "SECTIONS",
    "Report",
    "assumptions",
    "kind_rows",
    "missed_cells",
    "number",
    "render",
    "write_report",
]

REPORT = "report.html"
PLOTS = "plots"
ERROR = "report_error.txt"
"""Left by a run whose report failed (the traceback); removed when the report is rebuilt."""

SECTIONS = (
    ("headline", "Headline"),
    ("plots", "Pictures"),
    ("kpis", "KPIs against targets"),
    ("intervals", "Intervals against the target"),
    ("departments", "Departments"),
    ("assumptions", "Model assumptions"),
    ("definitions", "KPI definitions"),
    ("scenario", "Scenario"),
    ("run", "Run facts"),
)


# --- sections -----------------------------------------------------------------------------------------------


Card = tuple[str, str, str, str]
"""(label, value, note, CSS class)."""


def _cards(cards: Sequence[Card]) -> str:
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card {klass}"><div class="label">{esc(label)}</div><div class="value">{esc(value)}</div>'
            f'<div class="note">{esc(note)}</div></div>'
            for label, value, note, klass in cards
        )
        + "</div>"
    )


def feature_cards(run: SavedRun, found: Features) -> list[Card]:
    """Headline cards for holds, callbacks, redials and the experience score, when the run has them."""
    summary = run.summary
    ci = summary_ci(summary)
    scenario = run.scenario
    target = scenario.service_level.target
    cards: list[Card] = []
    if found.callbacks:
        live = summary.get("service_level_live")
        met = isinstance(live, int | float) and not math.isnan(float(live)) and float(live) >= target
        cards.append(
            (
                kpis.kpi("service_level_live").label,
                with_ci(summary, "service_level_live", kpis.kpi("service_level_live").unit, ci),
                f"target {100 * target:.0f}%",
                "met" if met else "miss",
            )
        )
        cards.append(
            (
                "callbacks accepted / offered",
                f"{number(summary.get('callbacks_accepted'))} / {number(summary.get('callbacks_offered'))}",
                f"{number(summary.get('callback_promise_kept'), '%')} first dialled within "
                f"{format_duration(scenario.callback.window if scenario.callback else 7200.0)}; "
                f"mean {number(summary.get('mean_time_to_callback'), 's')} to callback",
                "",
            )
        )
    elif found.hold_callbacks:
        cards.append(
            (
                "callbacks taken on hold",
                with_ci(summary, "callbacks_from_hold", "n", ci),
                f"{number(summary.get('callback_promise_kept'), '%')} first dialled within "
                f"{format_duration(7200.0)}",
                "",
            )
        )
    if found.holds:
        cards.append(
            (
                "calls put on hold",
                with_ci(summary, "hold_rate", "%", ci),
                f"mean hold {number(summary.get('mean_hold_time'), 's')}; "
                f"{number(summary.get('hold_overrun_rate'), '%')} outran the promise; "
                f"{number(summary.get('abandoned_on_hold'))} hung up on hold",
                "",
            )
        )
    if found.redials:
        cards.append(
            (
                "calls per caller",
                with_ci(summary, "attempts_per_caller", "x", ci),
                f"{number(summary.get('unique_callers'))} callers made {number(summary.get('offered'))} calls "
                "(redials included)",
                "",
            )
        )
    if found.experience:
        cards.append(
            (
                "experience score (model, 0-10)",
                with_ci(summary, "experience.mean", "x", ci),
                f"{number(lookup(summary, 'experience.share_below_5'), '%')} of calls below 5; "
                f"10th percentile {number(lookup(summary, 'experience.p10'), 'x')}",
                "",
            )
        )
    return cards


def headline_section(run: SavedRun) -> str:
    """Cards for the few numbers that matter (and for holds, callbacks, redials and the experience score
    when the scenario has them), and how many intervals missed the target."""
    summary = run.summary
    ci = summary_ci(summary)
    target = run.scenario.service_level.target
    within = channel_threshold_words(run.scenario)  # the headline's departments' threshold(s)
    met = target_met(summary, target)

    def card(key: str, note: str, state: str = "") -> Card:
        """A headline card: the KPI's name and unit as the registry gives them, its value (± half-width)."""
        entry = kpis.kpi(key)
        label = kpis.label_in(entry.label, key, summary)  # `(voice)` in a centre of several channels
        return (label, with_ci(summary, key, entry.unit, ci), note, state)

    cards: list[Card] = [
        card("service_level", f"target {100 * target:.0f}% within {within}", "met" if met else "miss"),
        card("asa", "answered calls"),
        card("abandon_rate", "of offered calls"),
        card("occupancy", "busy / logged in"),
        card("offered", f"{number(summary.get('answered'))} answered"),
        card("agent_hours", "agents on duty"),
    ]
    found = features(run.scenario)
    extra = feature_cards(run, found)
    reps = run.reps
    note = (
        f"<p>Means over {reps} independent replications, with 95% confidence half-widths (Student t).</p>"
        if reps > 1
        else "<p>One simulated day (replication 0).</p>"
    )
    parts = [
        name
        for name, present in (
            ("holds", found.holds),
            ("callbacks", found.callbacks or found.hold_callbacks),
            ("redials", found.redials),
            ("the caller's experience (a model)", found.experience),
        )
        if present
    ]
    title = ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)
    more = f'<h3 id="headline-more">{esc(title[:1].upper() + title[1:])}</h3>{_cards(extra)}' if extra else ""
    return f"{_cards(cards)}{more}{note}{day_goals_table(run)}{missed_line(run)}"


def _image(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def plots_section(plots: Sequence[WrittenPlot]) -> str:
    """Each picture, embedded, with its caption (or the note that replaces it when it shows nothing)."""
    parts = []
    for plot in plots:
        spec = plot.spec
        anchor = f"plot-{spec.name}"
        if plot.note:
            parts.append(
                f'<figure id="{anchor}"><h3>{esc(spec.title)}</h3><p class="note">{esc(plot.note)}</p></figure>'
            )
            continue
        parts.append(
            f'<figure id="{anchor}"><h3>{esc(spec.title)}</h3>'
            f'<img src="{_image(plot.path)}" alt="{esc(spec.title)}">'
            f"<figcaption>{esc(spec.caption)}</figcaption></figure>"
        )
    return "".join(parts)


def run_section(run: SavedRun) -> str:
    """Seed, replications, versions, git revision, wall time and command."""
    meta = run.meta
    versions = ", ".join(f"{k} {v}" for k, v in (meta.get("versions") or {}).items())
    rows: list[list[Cell]] = [
        ["created", esc(meta.get("created_at", "-"))],
        ["seed", esc(meta.get("seed", "-"))],
        ["replications", esc(meta.get("reps", 1))],
        ["calls simulated", esc(number(meta.get("calls_simulated")))],
        ["wall time", esc(number(meta.get("wall_time"), "s"))],
        ["git revision", esc(meta.get("git_revision", "-"))],
        ["versions", esc(versions or "-")],
        ["command", f"<code>{esc(' '.join(str(a) for a in meta.get('command') or []))}</code>"],
    ]
    return headless_table(rows, "facts")


STYLE = """
:root { --ink: #1d2731; --muted: #5b6770; --miss: #fde2e1; --miss-ink: #a4161a; --met: #e3f4e8;
  --line: #d9dee3; --accent: #20639b; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--ink);
  margin: 0; background: #f5f7f9; line-height: 1.45; }
main { max-width: 1080px; margin: 0 auto; padding: 24px 28px 60px; background: #fff; }
header h1 { margin: 0 0 4px; font-size: 28px; }
header p { margin: 2px 0; color: var(--muted); }
nav { margin: 14px 0 8px; padding: 8px 0; border-top: 1px solid var(--line); border-bottom: 1px solid var(--line); }
.plotnav a { margin-right: 12px; color: var(--accent); text-decoration: none; font-size: 14px; }
nav a { margin-right: 14px; color: var(--accent); text-decoration: none; font-size: 14px; }
h2 { margin-top: 34px; border-bottom: 2px solid var(--accent); padding-bottom: 4px; }
.cards { display: grid; grid-template-columns: repeat(3, 1fr); gap: 12px; margin: 14px 0; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 26px; font-weight: 600; }
.card .note { color: var(--muted); font-size: 13px; }
.card.met { background: var(--met); border-color: #8fd19e; }
.card.miss { background: var(--miss); border-color: #f1a7a9; }
table { border-collapse: collapse; margin: 10px 0 18px; font-size: 13.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 10px; text-align: right; }
td { white-space: nowrap; }
.scroll { overflow-x: auto; }
th { background: #eef2f5; }
th:first-child, td:first-child { text-align: left; }
td.miss { background: var(--miss); color: var(--miss-ink); font-weight: 600; }
td.met { color: #1e6b34; }
table.intervals td, table.intervals th { padding: 3px 8px; }
p.alert { background: var(--miss); color: var(--miss-ink); padding: 8px 12px; border-radius: 6px; }
p.ok { background: var(--met); padding: 8px 12px; border-radius: 6px; }
figure { margin: 22px 0; }
figure img { max-width: 100%; border: 1px solid var(--line); }
figcaption, p.note { color: var(--muted); font-size: 14px; }
dl dt { font-weight: 600; margin-top: 8px; font-family: ui-monospace, Menlo, Consolas, monospace; }
dl dd { margin-left: 18px; }
pre { background: #f3f5f7; padding: 12px; overflow-x: auto; font-size: 12.5px; border-radius: 6px; }
code { font-size: 12.5px; }
@media print { body { background: #fff; } nav { display: none; } figure { break-inside: avoid; } }
"""

# On load: every image decoded and every in-page link pointing at an element that exists. The verdict goes
# into <body data-check="..."> so a headless browser (and a person, in the page's footer) can read it.
CHECK = """
window.addEventListener('load', function () {
  var problems = [];
  Array.prototype.forEach.call(document.images, function (img) {
    if (!img.complete || img.naturalWidth === 0) { problems.push('image not loaded: ' + img.alt); }
  });
  Array.prototype.forEach.call(document.querySelectorAll('a[href]'), function (a) {
    var href = a.getAttribute('href');
    if (href.charAt(0) !== '#') { problems.push('external link: ' + href); }
    else if (!document.getElementById(href.slice(1))) { problems.push('broken link: ' + href); }
  });
  var verdict = problems.length ? 'fail: ' + problems.join('; ') : 'ok';
  document.body.setAttribute('data-check', verdict);
  var images = document.images.length;
  document.getElementById('check').textContent = 'Page check: ' + verdict + ' (' + images + ' images).';
});
"""


def text_sections(run: SavedRun) -> dict[str, str]:
    """The report's sections that show no picture, as HTML by section key: computed while the pictures
    are drawn (`write_report`), then placed by `render`."""
    return {
        "headline": headline_section(run),
        "kpis": kpis_section(run),
        "intervals": intervals_section(run),
        "departments": departments_section(run),
        "assumptions": "".join(
            f"<li>{code_spans(item)}</li>" for item in assumptions(run.scenario, run.reps)
        ),
        "definitions": "".join(
            f"<dt>{esc(key)}</dt><dd>{code_spans(doc)} <span class='note'>({esc(source)})</span></dd>"
            for key, source, doc in definitions()
        ),
        "scenario": esc(readable_scenario(run.scenario)),
        "run": run_section(run),
    }


def render(run: SavedRun, plots: Sequence[WrittenPlot], texts: dict[str, str] | None = None) -> str:
    """The whole report as one HTML string (images embedded); `texts`: its `text_sections`, if already
    computed."""
    scenario = run.scenario
    end = scenario.start + scenario.duration
    reps = f", {run.reps} replications" if run.reps > 1 else ""
    nav = "".join(f'<a href="#{key}">{esc(title)}</a>' for key, title in SECTIONS)
    plot_nav = " ".join(f'<a href="#plot-{p.spec.name}">{esc(p.spec.title)}</a>' for p in plots)
    text = texts if texts is not None else text_sections(run)
    description = f"<p>{esc(scenario.description)}</p>" if scenario.description else ""
    body = f"""
<header id="top">
<h1>{esc(scenario.name)}: simulated day report</h1>
{description}
<p>{format_clock(scenario.start)}-{format_clock(end)}, {format_duration(scenario.interval)} intervals, seed {esc(run.meta.get("seed", "?"))}{reps}.
Waits in seconds, agent time in hours, clock times as in the scenario.</p>
</header>
<nav>{nav}</nav>
<section id="headline"><h2>Headline</h2>{text["headline"]}</section>
<section id="plots"><h2>Pictures</h2><p class="plotnav">{plot_nav}</p>{plots_section(plots)}</section>
<section id="kpis"><h2>KPIs against targets</h2>{text["kpis"]}</section>
<section id="intervals"><h2>Intervals against the target</h2>{text["intervals"]}</section>
<section id="departments"><h2>Departments</h2>{text["departments"]}</section>
<section id="assumptions"><h2>Model assumptions</h2><ul>{text["assumptions"]}</ul></section>
<section id="definitions"><h2>KPI definitions</h2>
<p>Quoted from the docstrings of the functions that compute them (<code>sim/analysis/metrics.py</code>).</p>
<dl>{text["definitions"]}</dl></section>
<section id="scenario"><h2>Scenario</h2>
<p>As run, every default filled in; clock times as 08:00 and durations with their unit (45s, 4m, 1.5h), as a
scenario file writes them (<code>scenario.yaml</code> in the results folder holds the same in seconds).</p>
<pre>{text["scenario"]}</pre></section>
<section id="run"><h2>Run facts</h2>{text["run"]}</section>
<footer><p class="note" id="check">Page check: not run (scripts disabled).</p><p><a href="#top">Back to top</a></p></footer>
"""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{esc(scenario.name)}: callsim report</title><style>{STYLE}</style></head>"
        f'<body data-check="pending"><main>{body}</main><script>{CHECK}</script></body></html>\n'
    )


@dataclass(frozen=True)
class Report:
    """What `write_report` wrote: the HTML file and the pictures."""

    html: Path
    plots: list[WrittenPlot]


def write_report(folder: Path | str) -> Report:
    """Rebuild `plots/` and `report.html` in a saved results folder from its files alone; each is replaced
    whole (written beside, then renamed), so an interrupted rebuild leaves the previous report intact."""
    folder = Path(folder)
    if (folder / WEEK_TABLE).is_file():  # a week's folder: its own page, with the Week section
        return Report(rebuild_week_report(folder), [])
    return begin_report(folder).finish()


def begin_report(
    folder: Path,
    pending: Collection[str] = (),
    tables: Mapping[str, pd.DataFrame] | None = None,
    drawer: ReportDrawer | None = None,
) -> ReportUnderway:
    """Begin a day's report (as `write_report`): read the run, sketch its pictures into a staging folder
    beside `plots/` and, given a `drawer` (`sim.output.drawer`, forked as the run started), have it draw
    them while the caller goes on; `ReportUnderway.finish` writes the rest."""
    run = load_run(folder, pending, tables)
    staging = new_staging(folder / PLOTS)  # mode from the umask, like the rest of the folder
    try:
        jobs, listed = sketches(run, staging, lazy=drawer is None)  # a drawer is sent the inputs themselves
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    drawing = drawer if drawer is not None and drawer.begin(jobs) else None
    return ReportUnderway(folder, run, staging, jobs, listed, drawing)


class ReportUnderway:
    """A report `begin_report` began: its pictures being drawn by a report drawer, or to be drawn here."""

    def __init__(
        self,
        folder: Path,
        run: SavedRun,
        staging: Path,
        jobs: list[Job],
        listed: list[WrittenPlot],
        drawer: ReportDrawer | None,
    ) -> None:
        self.folder = folder
        self.run = run
        self._staging = staging
        self._jobs = jobs
        self._listed = listed
        self._drawer = drawer

    def finish(self) -> Report:
        """Write the report's text (while the drawer draws), wait for the pictures (drawing them here,
        every one, if the drawer did not save them all), then put `plots/` and `report.html` in place."""
        folder, run, staging = self.folder, self.run, self._staging
        try:
            texts: dict[str, str] = {}

            def write_texts() -> None:
                if not texts:
                    texts.update(text_sections(run))

            if self._drawer is not None:
                write_texts()
            if self._drawer is None or not self._drawer.finish():
                draw_all(self._jobs, meanwhile=write_texts)
            document = render(run, self._listed, texts)
            replace_folder(staging, folder / PLOTS)  # the old pictures aside, the new in place
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        plots = [WrittenPlot(p.spec, folder / PLOTS / p.path.name, p.note) for p in self._listed]
        partial = folder / f".{REPORT}.partial"
        partial.write_text(document, encoding="utf-8")
        partial.replace(folder / REPORT)
        (folder / ERROR).unlink(missing_ok=True)
        return Report(folder / REPORT, plots)
