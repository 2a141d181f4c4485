"""The user's entry from a checkout: `python cli.py run` is `callsim run` (the commands live in `sim.cli`)."""

from sim.cli.app import app, main

__all__ = ["app", "main"]

if __name__ == "__main__":
    main()
