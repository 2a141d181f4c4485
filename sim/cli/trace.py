"""`callsim trace`: one caller's journey told for trainers (the story and the timeline are
`sim.output.trace`'s, the same caller under two policies `sim.output.trace_pairs`'s; this module reads the
options, prints, and puts the picture and the story in a results folder, never loose in the current one)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from sim.cli.common import FAILED, DayOption, SeedOption, SetOption, load, out, refuse

if TYPE_CHECKING:
    from sim.model.scenario import Scenario
    from sim.output.trace import Traced
    from sim.output.trace_pairs import TracedPair


def trace(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML")],
    call: Annotated[int | None, typer.Option("--call", help="Tell this call id")] = None,
    record: Annotated[
        int | None,
        typer.Option(
            "--record",
            help="Tell this campaign record's dials (outbound:); --pick right-party, nuisance, not-reached or "
            "dialled-again picks a record instead",
        ),
    ] = None,
    longest: Annotated[
        bool,
        typer.Option(
            "--longest",
            help="Tell the caller with the longest chain (the default without --pick, --min-agents or "
            "--waited-over; with them, the longest chain among the callers they pick)",
        ),
    ] = False,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Only callers with this reason (combines with the rest)")
    ] = None,
    picks: Annotated[
        list[str] | None,
        typer.Option(
            "--pick",
            help="Pick a caller by what happened: callback-from-hold, abandoned-on-hold, misrouted (by the "
            "phone menu); an email overdue, from-backlog (waiting at the open), left-in-backlog (at the "
            "close), an overdue-call (its customer chasing it); a campaign record: right-party, nuisance, "
            "not-reached, dialled-again; repeatable, all must hold; the first to arrive is told (see --nth)",
        ),
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option(
            "--channel",
            help="Only contacts of this channel: voice, chat or email (combines with the rest; alone, the "
            "longest chain among them)",
        ),
    ] = None,
    min_agents: Annotated[
        int | None, typer.Option("--min-agents", min=1, help="Pick a caller who met at least N agents")
    ] = None,
    waited_over: Annotated[
        str | None,
        typer.Option("--waited-over", help="Pick a caller who waited over this long in queues, e.g. 2m"),
    ] = None,
    nth: Annotated[
        int, typer.Option("--nth", min=1, help="Tell the k-th caller picked (by arrival), not the first")
    ] = 1,
    set_b: Annotated[
        list[str] | None,
        typer.Option(
            "--set-b",
            help="Also tell the same caller under a change (B): dotted.path=value (repeatable), on the "
            "same seed; the timelines are drawn A above B",
        ),
    ] = None,
    slides: Annotated[
        bool,
        typer.Option(
            "--slides",
            help="Draw for a slide: large type, ticks on round clock times, every segment visible "
            "(a wait of no time, a dial-out nobody answered)",
        ),
    ] = False,
    picture: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Save the timeline picture here (PNG; the story beside it as .md). Default: a new folder "
            "results/<scenario>-trace-<time>/",
        ),
    ] = None,
    overrides: SetOption = None,
    seed: SeedOption = None,
    day: DayOption = None,
) -> None:
    """For trainers: one caller's journey, ring by ring and agent by agent, as a story and a timeline; with
    --set-b, the same caller under two policies, story beside story and timeline above timeline."""
    from sim.analysis.trace_picks import Criteria
    from sim.model.durations import parse_duration
    from sim.output.trace import trace as trace_call
    from sim.output.trace_pairs import labels, trace_pair

    loaded = load(scenario, overrides, day, "trace")
    changed = load(scenario, [*(overrides or []), *set_b], day, "trace") if set_b else None
    named = [flag for flag, given in (("--pick", picks), ("--min-agents", min_agents is not None),
             ("--waited-over", waited_over is not None), ("--reason", reason is not None),
             ("--longest", longest), ("--nth", nth != 1), ("--channel", channel is not None)) if given]  # fmt: skip
    if call is not None and named:
        refuse(f"--call names the caller: it cannot be combined with {', '.join(named)}")
    from sim.analysis.trace_records import RECORD_PICKS

    if record is not None or any(pick in RECORD_PICKS for pick in picks or ()):
        _trace_record(loaded, seed, record, picks or [], nth, named, call, set_b, picture, slides)
        return
    try:
        waited = None if waited_over is None else parse_duration(waited_over)
    except ValueError as error:
        refuse(f"--waited-over: {error}")
    try:
        criteria = Criteria(tuple(picks or ()), min_agents, waited, reason, channel)
        if changed is None:
            told: Traced | TracedPair = trace_call(
                loaded, seed, call, criteria=criteria, nth=nth, longest=longest
            )
        else:
            label_a, label_b = labels(overrides or [], set_b or [])
            told = trace_pair(loaded, changed, label_a, label_b, seed, call, criteria, nth, longest)
    except ValueError as error:
        refuse(error)
    if told.note and changed is None:
        out.print(f"{told.note}.", highlight=False, markup=False, soft_wrap=True)
    out.print(told.text, highlight=False, markup=False, soft_wrap=True)
    picture_at, story_at = _keep(told, loaded.name, picture, slides)
    out.print(f"timeline: {picture_at}\nstory: {story_at}", highlight=False, soft_wrap=True)


def _trace_record(
    loaded: Scenario,
    seed: int | None,
    record: int | None,
    picks: list[str],
    nth: int,
    named: list[str],
    call: int | None,
    set_b: list[str] | None,
    picture: Path | None,
    slides: bool,
) -> None:
    """`--record N` or a record pick: tell a campaign record's story (`sim.output.trace_records`)."""
    from sim.analysis.trace_records import RECORD_PICKS
    from sim.output.trace_records import trace_record

    others = [pick for pick in picks if pick not in RECORD_PICKS]
    if others:
        refuse(f"--pick {others[0]} picks a caller, not a campaign record: leave it out of a record's trace")
    if record is not None and named:
        refuse(f"--record names the record: it cannot be combined with {', '.join(named)}")
    if call is not None or set_b:
        refuse("a campaign record's trace takes neither --call nor --set-b")
    extra = [flag for flag in named if flag not in ("--pick", "--nth")]
    if extra:
        refuse(f"a campaign record is picked by --pick and --nth alone, not {', '.join(extra)}")
    try:
        told = trace_record(loaded, seed, record, picks, nth)
    except ValueError as error:
        refuse(error)
    if told.note:
        out.print(f"{told.note}.", highlight=False, markup=False, soft_wrap=True)
    out.print(told.text, highlight=False, markup=False, soft_wrap=True)
    picture_at, story_at = _keep(told, loaded.name, picture, slides)
    out.print(f"timeline: {picture_at}\nstory: {story_at}", highlight=False, soft_wrap=True)


def _keep(told: Traced | TracedPair, name: str, picture: Path | None, slides: bool) -> tuple[Path, Path]:
    """Draw the timeline and write the story as Markdown: at `--out` (and the .md beside it), else in a new
    folder `results/<name>-trace-<time>/` (as `callsim run` names its folders). Returns where they went."""
    from sim.output.folders import ResultsError, default_run_dir, unwritable, write_folder
    from sim.output.trace import draw_traced
    from sim.output.trace_pairs import TracedPair, pair_figure
    from sim.output.trace_picture import save
    from sim.output.trace_records import draw_record

    def fill(folder: Path, picture_name: str = "timeline.png", story_name: str = "story.md") -> None:
        if isinstance(told, TracedPair):
            save(pair_figure(told, slides), folder / picture_name)
        elif told.record:  # a campaign record's dials
            draw_record(told, folder / picture_name)
        else:
            draw_traced(told, folder / picture_name, slides)
        (folder / story_name).write_text(told.markdown, encoding="utf-8")

    try:
        if picture is not None:
            story = picture.with_suffix(".md")
            fill(picture.parent, picture.name, story.name)
            return picture, story
        target = write_folder(default_run_dir(Path("results"), f"{name}-trace"), False, fill)
    except ResultsError as error:
        refuse(error, FAILED)
    except OSError as error:
        refuse(unwritable(error, picture or Path("results"), "the trace"), FAILED)
    return target / "timeline.png", target / "story.md"
