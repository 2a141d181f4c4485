"""Packaging: what `pip install .` puts on a machine, and the options that go with an install.

The wheel carries every module under `sim/` and the shipped scenarios (as `sim.scenarios`, so the default
day is found wherever callsim is installed), and no generic top-level module such as `cli`. Dask is an
optional extra: `--dask` without it says how to install it. A slow test installs the wheel into a fresh
virtual environment and runs the default day from another directory, as a new user would.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

import sim.cli.app as cli
from sim.experiments.executors import DaskExecutor, ExecutorError
from tests.conftest import ROOT, SCENARIOS

SOURCES = ("pyproject.toml", "README.md", "cli.py", "sim", "scenarios")
"""What a build reads: copied aside so that building leaves nothing (build/, egg-info) in the checkout."""
PIP = (sys.executable, "-m", "pip", "-q", "--disable-pip-version-check")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """callsim's wheel, built from a copy of the checkout as `pip wheel .` builds it."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(path, source / name)
    built = subprocess.run(
        [*PIP, "wheel", "--no-deps", "--no-build-isolation", "-w", str(root / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert built.returncode == 0, built.stderr
    (found,) = (root / "dist").glob("callsim-*.whl")
    yield found


def names_in(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return set(archive.namelist())


def test_the_wheel_carries_the_shipped_scenarios(wheel: Path) -> None:
    names = names_in(wheel)
    shipped = {f"sim/scenarios/{path.name}" for path in SCENARIOS}
    assert shipped and shipped <= names
    catalogues = {f"sim/scenarios/shifts/{path.name}" for path in (ROOT / "scenarios" / "shifts").glob("*.yaml")}
    assert catalogues and catalogues <= names  # the example shift catalogue of `callsim schedule`
    with zipfile.ZipFile(wheel) as archive:
        default = archive.read(f"sim/scenarios/{cli.DEFAULT_NAME}")
    assert default == (ROOT / "scenarios" / cli.DEFAULT_NAME).read_bytes()


def test_the_wheel_carries_every_module_and_no_generic_top_level_one(wheel: Path) -> None:
    """A sub-package missing from pyproject.toml's list would be left out of the wheel: every module of the
    checkout must be in it, and nothing at the top but `sim` and its metadata."""
    names = names_in(wheel)
    modules = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "sim").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert modules - names == set()
    assert "sim/py.typed" in names
    tops = {name.split("/")[0] for name in names}
    assert {top for top in tops if not top.endswith(".dist-info")} == {"sim"}
    assert "cli.py" not in names


def test_the_package_list_names_every_package_under_sim() -> None:
    """pyproject.toml lists the packages (it must, to map `scenarios/` onto `sim.scenarios`)."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(path.parent.relative_to(ROOT).parts) for path in (ROOT / "sim").rglob("__init__.py")}
    assert listed == on_disk | {"sim.scenarios"}


def test_the_wheel_metadata_makes_dask_optional_and_pins_simpy(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (meta,) = [name for name in archive.namelist() if name.endswith(".dist-info/METADATA")]
        requires = [
            line.removeprefix("Requires-Dist: ")
            for line in archive.read(meta).decode().splitlines()
            if line.startswith("Requires-Dist: ")
        ]
        (entry,) = [name for name in archive.namelist() if name.endswith(".dist-info/entry_points.txt")]
        entry_points = archive.read(entry).decode()
    dask = [line for line in requires if line.startswith("dask")]
    assert dask and all("extra ==" in line for line in dask)
    assert any('extra == "dask"' in line for line in dask)
    (simpy,) = [line for line in requires if line.startswith("simpy")]
    assert "<4.2" in simpy and ">=4.1" in simpy
    assert "callsim = sim.cli.app:main" in entry_points


def test_the_default_scenario_is_found_from_a_checkout() -> None:
    """Run from source (or an editable install), the default day is the repository's own file."""
    assert cli.default_scenario().read_bytes() == (ROOT / "scenarios" / cli.DEFAULT_NAME).read_bytes()


def test_version_prints_the_installed_version() -> None:
    result = CliRunner().invoke(cli.app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"callsim {version('callsim')}"


@pytest.mark.parametrize(
    "command",
    [
        ["sweep", str(ROOT / "scenarios" / "small-centre.yaml"), "--grid", "departments.billing.agents=8:9"],
        ["staff", str(ROOT / "scenarios" / "small-centre.yaml")],
    ],
)
def test_dask_missing_is_one_line_naming_the_extra(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    """`--dask` without Dask installed: exit 2 before any work, one line with the install command."""
    monkeypatch.setitem(sys.modules, "dask", None)  # `import dask...` now raises ImportError
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    result = CliRunner().invoke(
        cli.app, [*command, "--dask", "tcp://127.0.0.1:9", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [f"error: {cli.DASK_MISSING}"]
    assert "pip install 'callsim[dask]'" in result.output
    assert not (tmp_path / "out").exists()


def test_the_dask_executor_says_how_to_install_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    """Library callers (not only the CLI) get the install command rather than a bare ImportError."""
    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(ExecutorError, match=r"pip install 'callsim\[dask\]'"):
        DaskExecutor("tcp://127.0.0.1:9")


@pytest.mark.slow
def test_an_installed_wheel_runs_the_default_day_from_any_directory(wheel: Path, tmp_path: Path) -> None:
    """`pip install callsim-*.whl` into a fresh virtual environment, then `callsim run` with no scenario from
    an unrelated directory. The environment reuses this one's dependencies through a .pth file (no
    downloads), but not its callsim: only the wheel's `sim` is importable there."""
    environment = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(environment)], check=True, timeout=300)
    python = environment / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    here = [*site.getsitepackages(), sysconfig.get_paths()["purelib"]]
    Path(purelib, "_callsim_test_dependencies.pth").write_text("\n".join(dict.fromkeys(here)) + "\n")
    subprocess.run(
        [*PIP, "--python", str(python), "install", "--no-deps", str(wheel)],
        check=True,
        timeout=600,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    script = environment / "bin" / "callsim"
    clean = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    where = subprocess.run(
        [str(python), "-c", "import sim, sim.cli.app as c; print(sim.__file__); print(c.default_scenario())"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=clean,
        check=True,
    ).stdout.splitlines()
    assert all(line.startswith(purelib) for line in where), where  # the wheel's files, not the checkout's
    done = subprocess.run(
        [str(script), "run", "--quiet", "--out", "day"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env={**clean, "MPLBACKEND": "Agg"},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    assert (elsewhere / "day" / "summary.json").exists()
    assert (elsewhere / "day" / "report.html").exists()
    assert "name: small-centre" in (elsewhere / "day" / "scenario.yaml").read_text()
    shown = subprocess.run([str(script), "--version"], capture_output=True, text=True, env=clean, check=True)
    assert shown.stdout.strip() == f"callsim {version('callsim')}"
