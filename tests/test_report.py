"""report.html: one self-contained file with every section, embedded pictures, the KPIs of summary.json, the
missed intervals highlighted and the KPI definitions quoted from sim/analysis/metrics.py; `callsim report` rebuilds it."""

from __future__ import annotations

import base64
import inspect
import json
import re
import shutil
from html.parser import HTMLParser

import pytest
from typer.testing import CliRunner

import sim.cli.app as cli
from sim.analysis import metrics
from sim.experiments.runner import replicate
from sim.output.report import DEFINITIONS, SECTIONS, missed_cells, number, write_report
from sim.output.results import write_run
from sim.output.saved import load_run
from tests.report_runs import quiet_run, replicated_run, scenario, single_run


class _Page(HTMLParser):
    """Ids, images, links, and the cells of each table, by section."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.images: list[dict[str, str]] = []
        self.links: list[str] = []
        self.sources: list[str] = []
        self.section = ""
        self.cells: list[tuple[str, str]] = []  # (section, class)

    def handle_starttag(self, tag, attrs):
        attributes = {k: v or "" for k, v in attrs}
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if tag == "section":
            self.section = attributes.get("id", "")
        if tag == "img":
            self.images.append(attributes)
        if tag == "a" and "href" in attributes:
            self.links.append(attributes["href"])
        if tag in ("script", "link", "iframe") and ("src" in attributes or "href" in attributes):
            self.sources.append(attributes.get("src") or attributes.get("href", ""))
        if tag == "td":
            self.cells.append((self.section, attributes.get("class", "")))


def _page(folder):
    html = (folder / "report.html").read_text(encoding="utf-8")
    page = _Page()
    page.feed(html)
    return html, page


def test_report_has_every_section_and_only_internal_links():
    html, page = _page(single_run())
    assert html.startswith("<!DOCTYPE html>")
    for key, _ in SECTIONS:
        assert key in page.ids, key
    for link in page.links:
        assert link.startswith("#") and link[1:] in page.ids, link
    assert not page.sources, "the report must not load anything from outside"
    assert not re.search(r"""(src|href)=["']https?:""", html)


def test_report_embeds_every_picture():
    folder = single_run()
    _, page = _page(folder)
    pictures = {p.name for p in (folder / "plots").iterdir()}
    # the transfer picture is shown unless the run had none
    assert len(page.images) == len(pictures)
    for image in page.images:
        assert image["src"].startswith("data:image/png;base64,")
        data = base64.b64decode(image["src"].split(",", 1)[1])
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        assert image["alt"]


def test_run_without_transfers_says_so_instead_of_a_picture():
    html, page = _page(quiet_run())
    assert "No call was transferred in this run, so there is no transfer map to draw." in html
    assert "Every answered caller met exactly one agent" in html  # no single 100% bar either
    assert len(page.images) == 5


def test_headline_numbers_are_summary_json():
    folder = single_run()
    html, _ = _page(folder)
    summary = json.loads((folder / "summary.json").read_text())
    for key, unit in (("service_level", "%"), ("asa", "s"), ("abandon_rate", "%"), ("occupancy", "%")):
        assert number(summary[key], unit) in html, key
    assert f"{summary['agent_hours']:.1f} h" in html
    assert "08:00-10:00" in html  # the scenario's clock


def test_replicated_report_shows_confidence_intervals():
    folder = replicated_run()
    html, _ = _page(folder)
    summary = json.loads((folder / "summary.json").read_text())
    expected = f"{number(summary['service_level'], '%')} ± {number(summary['ci95']['service_level'], '%')}"
    assert expected in html
    assert "Means over 3 independent replications" in html


def test_missed_intervals_are_highlighted():
    folder = single_run()
    run = load_run(folder)
    _, page = _page(folder)
    target = run.scenario.service_level.target
    missed = missed_cells(run.intervals, target)
    highlighted = [c for section, c in page.cells if section == "intervals" and c == "miss"]
    assert len(highlighted) == len(missed)
    met = [c for section, c in page.cells if section == "intervals" and c == "met"]
    assert len(highlighted) + len(met) >= 4


def test_kpi_definitions_are_quoted_from_metrics():
    html, _ = _page(single_run())
    section = html.split('id="definitions"', 1)[1].split("</section>", 1)[0]
    quoted = 0
    for key, function_name in DEFINITIONS:
        function = getattr(metrics, function_name, None)
        if function is None:
            continue
        doc = " ".join(inspect.getdoc(function).split()).replace("`", "")  # code is set as <code>, unquoted
        escaped = doc.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = re.sub(r"</?code>", "", section)
        assert escaped in text.replace("&#x27;", "'").replace("&quot;", '"'), key
        quoted += 1
    assert quoted >= 15


def test_assumptions_and_scenario_are_in_the_report():
    html, _ = _page(single_run())
    assumptions = html.split('id="assumptions"', 1)[1].split("</section>", 1)[0]
    assert "Poisson process at 90 calls an hour" in assumptions
    assert "billing: 3 agents all day" in assumptions
    scenario_text = html.split('id="scenario"', 1)[1].split("</section>", 1)[0]
    assert "name: report-test" in scenario_text


def test_a_failing_report_keeps_the_results(tmp_path, monkeypatch):
    import sim.output.report

    def broken(folder, pending=(), tables=None, drawer=None):
        raise RuntimeError("reading failed")

    monkeypatch.setattr(sim.output.report, "begin_report", broken)
    run = replicate(scenario(duration="30m"), reps=1)
    folder = write_run(tmp_path / "run", run)
    assert (folder / "summary.json").exists()
    assert "reading failed" in (folder / "report_error.txt").read_text()
    assert not (folder / "report.html").exists()


def test_a_picture_that_fails_keeps_the_results(tmp_path, monkeypatch):
    """A picture that cannot be drawn (here the queue's) fails the report, not the run: the traceback in
    report_error.txt, no report.html, no half-drawn plots folder."""
    import sim.output.drawing

    original = sim.output.drawing.figure

    def broken(sketch):
        if sketch[0] == "queue":
            raise RuntimeError("drawing failed")
        return original(sketch)

    monkeypatch.setattr(sim.output.drawing, "figure", broken)
    run = replicate(scenario(duration="30m"), reps=1)
    folder = write_run(tmp_path / "run", run)
    assert (folder / "summary.json").exists()
    assert "drawing failed" in (folder / "report_error.txt").read_text()
    assert not (folder / "report.html").exists() and not (folder / "plots").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no staging leftovers"


def test_write_run_can_skip_the_report(tmp_path):
    run = replicate(scenario(duration="30m"), reps=1)
    folder = write_run(tmp_path / "run", run, report=False)
    assert not (folder / "report.html").exists() and not (folder / "plots").exists()


def test_callsim_report_rebuilds_from_the_saved_files(tmp_path):
    folder = tmp_path / "copy"
    shutil.copytree(single_run(), folder)
    shutil.rmtree(folder / "plots")
    (folder / "report.html").unlink()
    (folder / "report_error.txt").write_text("old failure")
    result = CliRunner().invoke(cli.app, ["report", str(folder)])
    assert result.exit_code == 0, result.output
    assert f"report: {folder / 'report.html'}" in result.output
    assert "plot: " in result.output and "service_level.png" in result.output
    assert (folder / "report.html").stat().st_size > 50_000
    assert sorted(p.name for p in (folder / "plots").iterdir()) == sorted(
        p.name for p in (single_run() / "plots").iterdir()
    )
    assert not (folder / "report_error.txt").exists()
    assert not [p for p in folder.iterdir() if p.name.startswith(".")], "no staging leftovers"
    again = write_report(folder)
    assert again.html == folder / "report.html" and len(again.plots) == 7
    refused = CliRunner().invoke(cli.app, ["report", str(tmp_path)])
    assert refused.exit_code == 2
    assert "not a callsim results folder" in " ".join(refused.output.split())


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        (lambda folder: (folder / "calls.parquet").unlink(), "missing calls.parquet"),
        (lambda folder: (folder / "visits.parquet").write_text("not parquet"), "cannot be read back"),
        (lambda folder: (folder / "summary.json").write_text("{"), "cannot be read back"),
    ],
    ids=["missing table", "corrupt table", "corrupt summary"],
)
def test_callsim_report_refuses_a_damaged_folder_in_one_line(tmp_path, damage, words):
    folder = tmp_path / "copy"
    shutil.copytree(single_run(), folder)
    damage(folder)
    refused = CliRunner().invoke(cli.app, ["report", str(folder)])
    assert refused.exit_code == 2
    assert refused.exception is None or isinstance(refused.exception, SystemExit)
    assert words in " ".join(refused.output.split()) and "Traceback" not in refused.output


@pytest.mark.parametrize("flag", ["--json", "--quiet"])
def test_cli_run_json_and_quiet_stay_clean(tmp_path, flag):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: clean\nduration: 30m\narrivals: {per_hour: 60}\n"
        "departments: {support: {agents: 2, handle_time: {dist: exponential, mean: 2m}}}\n"
    )
    result = CliRunner().invoke(cli.app, ["run", str(path), "--out", str(tmp_path / "out"), flag])
    assert result.exit_code == 0, result.output
    if flag == "--json":
        assert json.loads(result.stdout)["offered"] >= 0
    else:
        assert result.stdout == ""
    assert (tmp_path / "out" / "report.html").exists()


def test_cli_run_names_the_report(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: named\nduration: 30m\narrivals: {per_hour: 60}\n"
        "departments: {support: {agents: 2, handle_time: {dist: exponential, mean: 2m}}}\n"
    )
    result = CliRunner().invoke(cli.app, ["run", str(path), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert f"report: {tmp_path / 'out' / 'report.html'}" in result.output
    assert "\x1b[" not in result.output, "no colour codes when the output is not a terminal"
