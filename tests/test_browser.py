"""report.html in a real headless browser: it renders, every image decodes, every link has its target
(the page's own check writes its verdict into <body data-check>), and a screenshot is not blank."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.report_runs import single_run

pytestmark = pytest.mark.browser

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def _chromium() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    for path in ("/usr/bin/chromium", "/usr/lib/chromium/chromium", "/snap/bin/chromium"):
        if Path(path).exists():
            return path
    pytest.skip(
        "headless Chromium not found (looked for " + ", ".join(CANDIDATES) + "); install it with "
        "`apt-get install -y chromium` (.ci/run does this)"
    )


def _headless(page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [
        _chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *extra,
        page.resolve().as_uri(),
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def _verdict(page: Path, profile: Path) -> str:
    done = _headless(page, profile, "--virtual-time-budget=5000", "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    match = re.search(r'<body[^>]*data-check="([^"]*)"', done.stdout)
    assert match, "no <body data-check> in the rendered page: " + done.stdout[:500]
    return match.group(1)


def test_report_renders_with_every_image_and_link(tmp_path):
    assert _verdict(single_run() / "report.html", tmp_path / "profile") == "ok"


def test_the_page_check_catches_a_broken_image_and_link(tmp_path):
    html = (single_run() / "report.html").read_text(encoding="utf-8")
    broken = html.replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1)
    broken = broken.replace('<a href="#plots">', '<a href="#nowhere">', 1)
    page = tmp_path / "broken.html"
    page.write_text(broken, encoding="utf-8")
    verdict = _verdict(page, tmp_path / "profile")
    assert verdict.startswith("fail")
    assert "image not loaded" in verdict and "broken link: #nowhere" in verdict


def test_screenshot_is_not_blank(tmp_path):
    shot = tmp_path / "report.png"
    done = _headless(
        single_run() / "report.html", tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2400"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with Image.open(shot) as image:
        assert image.size == (1280, 2400)
        pixels = np.asarray(image.convert("RGB"), dtype=float)
    assert pixels.std() > 20, "the screenshot looks blank"
    # the headline cards and the first picture put colour on the page, not just text
    saturation = pixels.max(axis=2) - pixels.min(axis=2)
    assert (saturation > 60).mean() > 0.002
