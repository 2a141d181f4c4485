"""callsim: a discrete-event call-centre simulator (callers, rings, holds, transfers, staffing)."""

__version__ = "0.1.0"
