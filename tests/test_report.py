"""``statmech report``: one self-contained HTML page per archive, checked as text and in Chromium."""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from statmech.cli import main
from statmech.runs.provenance import provenance
from statmech.runs.registry import get_experiment
from statmech.runs.report import write_report
from statmech.runs.scanfile import parse_scan
from statmech.runs.scanner import run_point, run_scan
from statmech.runs.schema import RunRecord
from statmech.runs.writer import ArchiveWriter

pytestmark = pytest.mark.usefixtures("toy_registry")  # conftest.py

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    """A toy scan (3 scales x 2 seeds), two small rem runs, a failed run and a run of an
    experiment that is not installed here."""
    import _toy

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STATMECH_EXPERIMENTS", _toy.TOY_REGISTRY)
        return _make_archive(tmp_path_factory.mktemp("report") / "runs.h5")


def _make_archive(path):
    scan = parse_scan('experiment = "toy"\nseeds = [1, 2]\n[grid]\nscale = [0.5, 1.0, 2.0]\n[fixed]\nn = 30\n')
    run_scan(scan, path, jobs=1, progress=False)
    rem = get_experiment("rem")
    ghost = run_point(get_experiment("toy"), {"n": 3}, 9)
    with ArchiveWriter(path) as writer:
        for m in (4, 5):
            writer.add(run_point(rem, {"M": m, "samples": 4, "n_beta": 6}, 0))
        writer.add(RunRecord("00000000000000f1", "toy", {"n": 2}, 0, (), "failed", "a", "b", provenance(),
                             None, "ValueError: asked to fail"))
        writer.add(RunRecord("00000000000000a0", "ghost", ghost.params, 9, (), "complete", "a", "b",
                             provenance(), ghost.result))
    return path


class _Page(HTMLParser):
    """Rows, run sections, images, external references and problem notes of a report page."""

    def __init__(self):
        super().__init__()
        self.rows, self.sections, self.images, self.external, self.problems = [], [], [], [], []
        self.hidden_rows, self.shown = [], ""
        self._in_shown = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr" and "data-experiment" in a:
            self.rows.append(a["data-experiment"])
            if "display: none" in a.get("style", ""):
                self.hidden_rows.append(a["data-experiment"])
        if tag == "section" and a.get("class") == "run":
            self.sections.append(a["id"].removeprefix("run-"))
        if tag == "img":
            self.images.append((a.get("class"), a.get("src", "")))
        for key in ("src", "href"):
            if re.match(r"^(https?:)?//", a.get(key, "")):
                self.external.append(a[key])
        if tag == "link" or (tag == "script" and "src" in a):
            self.external.append(tag)
        if "problem" in (a.get("class") or "").split():
            self.problems.append(a)
        self._in_shown = a.get("id") == "shown-count"

    def handle_data(self, data):
        if self._in_shown:
            self.shown += data
            self._in_shown = False


def _parse(text: str) -> _Page:
    page = _Page()
    page.feed(text)
    return page


def _run_ids(path):
    from statmech.runs.reader import open_archive

    with open_archive(path) as arc:
        return {r.run_id: (r.experiment, r.status) for r in arc.runs()}


def test_report_holds_every_run_its_figure_and_no_external_resource(archive, tmp_path):
    out = write_report(archive, tmp_path / "report.html")
    text = out.read_text(encoding="utf-8")
    page = _parse(text)
    runs = _run_ids(archive)
    assert len(runs) == 10
    assert sorted(page.sections) == sorted(runs)  # each run has its section...
    assert len(page.rows) == len(runs)  # ...and its row
    figures = [src for cls, src in page.images if cls == "run-figure"]
    drawable = [rid for rid, (exp, status) in runs.items() if status == "complete" and exp != "ghost"]
    assert len(figures) == len(drawable) == 8
    for src in figures:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    summaries = [src for cls, src in page.images if cls == "summary-figure"]
    assert len(summaries) == 2  # toy against scale, rem against M
    assert page.external == []
    assert len(page.problems) == 1 and "ghost" in text  # the uninstalled experiment says so
    assert "asked to fail" in text  # the failed run says why
    assert text.count('<pre class="report">') == 2  # the rem runs' printed reports
    assert "ground-state energy per bit" in text  # declared labels of the scalars


def test_report_command_checks_its_arguments_first(archive, tmp_path, capsys):
    assert main(["report", str(archive), "-o", str(tmp_path / "r.txt")]) == 1
    assert "must end in .html" in capsys.readouterr().err
    assert main(["report", str(archive), "-o", str(tmp_path / "missing" / "r.html")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "none.h5"), "-o", str(tmp_path / "r.html")]) == 1
    assert not (tmp_path / "r.html").exists()
    assert main(["report", str(archive), "--experiment", "nope", "-o", str(tmp_path / "r.html")]) == 1
    assert "no run of experiment 'nope'" in capsys.readouterr().err
    assert main(["report", str(archive), "--experiment", "rem", "-o", str(tmp_path / "r.html"), "--quiet"]) == 0
    assert len(_parse((tmp_path / "r.html").read_text()).rows) == 2


def _chromium(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", *args, url],
        capture_output=True, text=True, timeout=180)


@pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="Debian's chromium is not installed")
def test_report_renders_in_headless_chromium(archive, tmp_path):
    out = write_report(archive, tmp_path / "report.html")
    runs = _run_ids(archive)
    dom = _chromium(out.as_uri(), tmp_path, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    page = _parse(dom.stdout)
    assert sorted(page.sections) == sorted(runs) and len(page.rows) == len(runs)
    assert len([1 for cls, _ in page.images if cls == "run-figure"]) == 8
    assert page.shown.strip() == "10 runs shown"  # the inline script ran
    assert len(page.problems) == 1
    # the filter, set from the address, hides the other experiments' rows
    filtered = _parse(_chromium(out.as_uri() + "#experiment=rem", tmp_path, "--dump-dom").stdout)
    assert filtered.shown.strip() == "2 runs shown"
    assert sorted(set(filtered.hidden_rows)) == ["ghost", "toy"] and len(filtered.hidden_rows) == 8
    shot = tmp_path / "report.png"
    done = _chromium(out.as_uri(), tmp_path, f"--screenshot={shot}", "--window-size=1280,2000")
    assert done.returncode == 0 and shot.stat().st_size > 10_000


@pytest.mark.parametrize("symbol, text", [
    (r"$E_{\min}/M$", "<i>E<sub>min</sub>/M</i>"),
    (r"$\alpha_{1/2}$", "<i>α<sub>1/2</sub></i>"),
    (r"$f^e/\alpha$", "<i>f<sup>e</sup>/α</i>"),
    ("", ""),
])
def test_symbols_read_as_text_in_the_page(symbol, text):
    from statmech.runs.report import _symbol_html

    assert _symbol_html(symbol) == text
