"""One self-contained HTML page to browse an archive (``statmech report runs.h5 -o report.html``).

The page holds, with no external resource (figures are embedded as base64
PNG, the style and the small filter script are inline):

- the archive's identity and a count of its runs by experiment and status;
- a table of runs with their parameters, filterable by experiment (also
  from the address: ``report.html#experiment=rem``);
- the scalar summaries of each experiment plotted against the parameters
  its runs scan (:func:`statmech.runs.summaries.plot_scalars`, with the
  declared labels and theories);
- each run: its parameters, figure (:func:`statmech.figures.render`), printed
  report (the experiment's ``report``), scalar summaries next to their
  theory, and provenance;
- the software versions and hosts the runs were computed with.

A run that cannot be drawn or reported (its experiment is not installed
here, its figure raises) says so in its section, marked with the class
``problem``; a failed or damaged run shows why.
"""

from __future__ import annotations

import base64
import contextlib
import html
import io
import math
import os
import tempfile
from collections import Counter
from pathlib import Path
from typing import Callable

from statmech.runs.schema import STATUS_COMPLETE

__all__ = ["write_report", "build_report"]

#: Resolution of the embedded figures (dots per inch): readable on screen, small in the file.
FIGURE_DPI = 80

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 1.5em auto; max-width: 1200px;
       padding: 0 1em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; } h2 { border-bottom: 1px solid #ccc; margin-top: 2em; } h3 { margin-bottom: 0.3em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 0.5em 0; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.5em; text-align: left; vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f7f7f7; padding: 0.6em; overflow-x: auto; font-size: 0.8em; }
img { max-width: 100%; height: auto; border: 1px solid #eee; }
nav { position: sticky; top: 0; background: #fff; padding: 0.5em 0; border-bottom: 1px solid #ddd; }
.muted { color: #777; } .problem { color: #a00; font-weight: bold; }
.status-failed, .status-damaged { color: #a00; }
section.run { border-top: 1px dashed #ccc; padding-top: 0.5em; }
"""

_SCRIPT = """
(function () {
  var select = document.getElementById("experiment-filter");
  var shown = document.getElementById("shown-count");
  function apply() {
    var want = select.value, count = 0;
    document.querySelectorAll("[data-experiment]").forEach(function (el) {
      var keep = want === "" || el.getAttribute("data-experiment") === want;
      el.style.display = keep ? "" : "none";
      if (keep && el.tagName === "TR") { count += 1; }
    });
    shown.textContent = count + " run" + (count === 1 ? "" : "s") + " shown";
  }
  var hash = decodeURIComponent(window.location.hash || "");
  if (hash.indexOf("#experiment=") === 0) { select.value = hash.slice(12); }
  select.addEventListener("change", apply);
  apply();
})();
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


_GREEK = {name: chr(code) for name, code in (
    ("alpha", 945), ("beta", 946), ("gamma", 947), ("delta", 948), ("epsilon", 949), ("kappa", 954),
    ("lambda", 955), ("mu", 956), ("nu", 957), ("xi", 958), ("pi", 960), ("sigma", 963), ("tau", 964),
    ("phi", 966), ("chi", 967), ("Lambda", 923), ("Delta", 916), ("Sigma", 931))}
_TEX_WORDS = {"ln": "ln", "log": "log", "min": "min", "max": "max", "sqrt": "√", "partial": "∂",
              "infty": "∞", "to": "→", "pm": "±", "times": "×", "overline": "", "bar": "", "hat": "",
              "tilde": "", "frac": "", "left": "", "right": ""}


def _symbol_html(symbol: str) -> str:
    """A mathtext symbol (``r"$E_{\\min}/M$"``) as HTML text with Greek letters, sub- and superscripts."""
    import re

    text = symbol.replace("$", "")
    text = re.sub(r"\\([A-Za-z]+)", lambda m: _GREEK.get(m.group(1), _TEX_WORDS.get(m.group(1), m.group(1))),
                  text)
    text = html.escape(" ".join(text.split()))
    for mark, tag in (("_", "sub"), ("^", "sup")):
        text = re.sub(re.escape(mark) + r"\{([^{}]*)\}", rf"<{tag}>\1</{tag}>", text)
        text = re.sub(re.escape(mark) + r"([^\s{}])", rf"<{tag}>\1</{tag}>", text)
    return f"<i>{text.replace('{', '').replace('}', '')}</i>" if text else ""


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _value(value) -> str:
    from statmech.runs.summaries import format_value

    return format_value(value)


def _params_text(params) -> str:
    return ", ".join(f"{k}={_value(v)}" for k, v in params.items())


def _table(header, rows, numeric=()) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(row))
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _spec(name: str, cache: dict):
    from statmech.runs.registry import RegistryError, get_experiment

    if name not in cache:
        try:
            cache[name] = (get_experiment(name), "")
        except RegistryError as exc:
            cache[name] = (None, str(exc))
    return cache[name]


def _scalars_table(spec, info) -> str:
    rows = []
    for name, value in info.scalars.items():
        if spec is not None:
            summary = spec.summary(name)
            label, symbol, unit = summary.label, summary.symbol, summary.unit
            try:
                theory = summary.theory_value(info.scalars, info.params)
            except Exception:  # noqa: BLE001 - a theory that cannot be evaluated is shown as missing
                theory = math.nan
        else:
            label, symbol, unit, theory = name.replace("_", " "), "", "", math.nan
        rows.append([f"<code>{_e(name)}</code>", _e(label), _symbol_html(symbol), _e(_value(value)),
                     _e(_value(theory)) if math.isfinite(theory) else "", _e(unit)])
    if not rows:
        return ""
    return _table(["scalar", "what it is", "symbol", "value", "theory", "unit"], rows, numeric=(3, 4))


def _run_section(arc, info, specs: dict, archive_name: str) -> str:
    from statmech import figures

    spec, why = _spec(info.experiment, specs)
    parts = [f'<section class="run" id="run-{_e(info.run_id)}" data-experiment="{_e(info.experiment)}">',
             f"<h3>{_e(info.experiment)} <code>{_e(info.run_id)}</code></h3>",
             f'<p>status <span class="status-{_e(info.status)}">{_e(info.status)}</span>, seed {_e(info.seed)}'
             f"{', spawn key ' + _e(list(info.spawn_key)) if info.spawn_key else ''}, "
             f"started {_e(info.started)}, finished {_e(info.finished)}</p>"]
    if spec is not None:
        parts.append(f"<p class=\"muted\">{_e(spec.description)}</p>")
    if info.params:
        unit = {p.name: p.unit for p in spec.parameters} if spec is not None else {}
        parts.append(_table(["parameter", "value", "unit"],
                            [[f"<code>{_e(k)}</code>", _e(_value(v)), _e(unit.get(k, ""))]
                             for k, v in info.params.items()], numeric=(1,)))
    if info.status != STATUS_COMPLETE:
        parts.append(f"<pre>{_e(info.error or 'no result')}</pre></section>")
        return "\n".join(parts)
    result = arc.load(info.run_id)
    if spec is None:
        parts.append(f'<p class="problem">no figure or report: {_e(why)}</p>')
    else:
        if spec.plot is not None:
            try:
                fig = figures.render(spec, result, run_id=info.run_id, note=archive_name)
                parts.append(f'<figure><img class="run-figure" alt="figure of run {_e(info.run_id)}" '
                             f'src="{_png(fig)}"></figure>')
            except Exception as exc:  # noqa: BLE001 - the page says what failed and goes on
                parts.append(f'<p class="problem">the figure failed: {_e(type(exc).__name__)}: {_e(exc)}</p>')
        if spec.report is not None:
            try:
                parts.append(f'<pre class="report">{_e(spec.report(result))}</pre>')
            except Exception as exc:  # noqa: BLE001
                parts.append(f'<p class="problem">the report failed: {_e(type(exc).__name__)}: {_e(exc)}</p>')
    parts.append(_scalars_table(spec, info))
    parts.append("<details><summary>provenance</summary>"
                 + _table(["key", "value"], [[_e(k), _e(v)] for k, v in info.provenance.items()])
                 + "</details></section>")
    return "\n".join(parts)


def _summary_section(experiment: str, infos, specs: dict) -> str:
    """The experiment's scalar summaries against each numeric parameter its complete runs scan
    ("" when they scan none)."""
    from statmech.runs.summaries import RunTable, default_scalars, plot_scalars

    spec, _ = _spec(experiment, specs)
    table = RunTable([i for i in infos if i.experiment == experiment and i.status == STATUS_COMPLETE])
    head = f'<section class="summaries" data-experiment="{_e(experiment)}"><h3>{_e(experiment)}</h3>'
    numeric = [v for v in table.varying
               if all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in table.column(v))]
    if len(table) < 2 or not numeric:
        return ""  # listed together by build_report
    scalars = default_scalars(table, spec=spec)
    if not scalars:
        return head + '<p class="muted">no scalar summary varies between its runs.</p></section>'
    parts = [head]
    for x in numeric:
        try:
            fig = plot_scalars(table, scalars, x, spec=spec,
                               title=f"{experiment}: scalar summaries against {x} (mean ± s.e. over seeds), "
                                     "with their theory",
                               note=f"{len(table)} runs")
            parts.append(f'<figure><img class="summary-figure" alt="{_e(experiment)} summaries against '
                         f'{_e(x)}" src="{_png(fig)}"></figure>')
        except ValueError as exc:  # e.g. another parameter varies independently in several ways
            parts.append(f'<p class="muted">against {_e(x)}: {_e(exc)}</p>')
    return "\n".join(parts) + "</section>"


def _provenance_section(infos) -> str:
    counts: dict[str, Counter] = {}
    for info in infos:
        for key, value in info.provenance.items():
            counts.setdefault(key, Counter())[str(value)] += 1
    rows = [[_e(key), "<br>".join(f"{_e(v)} <span class=\"muted\">({n} run{'s' if n != 1 else ''})</span>"
                                  for v, n in counter.most_common())]
            for key, counter in counts.items()]
    return _table(["key", "values over the runs"], rows) if rows else "<p>no provenance recorded</p>"


def build_report(path, *, experiment: str | None = None,
                 progress: Callable[[float, float], None] | None = None) -> str:
    """The HTML text of the report of archive ``path`` (only ``experiment``'s runs if given).

    ``progress(done, total)`` is called as runs are drawn.
    """
    import statmech
    from statmech.runs.reader import open_archive

    specs: dict = {}
    with open_archive(path) as arc:
        infos = list(arc.runs(experiment=experiment))
        if experiment is not None and not infos:
            known = sorted({i.experiment for i in arc.runs()})
            raise ValueError(f"no run of experiment {experiment!r} in {path}; it holds {', '.join(known) or 'none'}")
        experiments = sorted({i.experiment for i in infos})
        name = Path(path).name
        by_status = Counter((i.experiment, i.status) for i in infos)
        counts = _table(["experiment", "complete", "failed", "damaged"],
                        [[_e(e)] + [str(by_status[(e, s)]) for s in ("complete", "failed", "damaged")]
                         for e in experiments], numeric=(1, 2, 3))
        rows = []
        for info in infos:
            rows.append(
                f'<tr data-experiment="{_e(info.experiment)}"><td><a href="#run-{_e(info.run_id)}">'
                f"<code>{_e(info.run_id)}</code></a></td><td>{_e(info.experiment)}</td>"
                f'<td class="status-{_e(info.status)}">{_e(info.status)}</td><td class="num">{_e(info.seed)}</td>'
                f"<td>{_e(info.finished)}</td><td>{_e(_params_text(info.params))}</td></tr>")
        options = "".join(f'<option value="{_e(e)}">{_e(e)}</option>' for e in experiments)
        summaries = [_summary_section(e, infos, specs) for e in experiments]
        unscanned = [e for e, text in zip(experiments, summaries) if not text]
        if unscanned:
            summaries.append(f'<p class="muted">Nothing scanned (fewer than two complete runs, or no numeric '
                             f'parameter varies) for: {_e(", ".join(unscanned))}.</p>')
        sections = []
        for k, info in enumerate(infos):
            sections.append(_run_section(arc, info, specs, name))
            if progress is not None:
                progress(k + 1, len(infos))
        schema = arc.schema_version
    body = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>statmech report: {_e(name)}</title>
<style>{_STYLE}</style></head>
<body>
<h1>statmech archive report: <code>{_e(name)}</code></h1>
<p>{len(infos)} run{"s" if len(infos) != 1 else ""} of {len(experiments)} experiment{"s" if len(experiments) != 1 else ""};
archive schema {schema}; report written by statmech
{_e(getattr(statmech, "__version__", "?"))} from <code>{_e(os.fspath(path))}</code>.</p>
{counts}
<nav><label>experiment <select id="experiment-filter"><option value="">all</option>{options}</select></label>
<span id="shown-count" class="muted"></span> · <a href="#runs">runs</a> · <a href="#summaries">summaries</a>
· <a href="#details">each run</a> · <a href="#provenance">provenance</a></nav>
<h2 id="runs">Runs</h2>
<table id="run-table"><thead><tr><th>run</th><th>experiment</th><th>status</th><th>seed</th><th>finished</th>
<th>parameters</th></tr></thead><tbody>
{''.join(rows)}
</tbody></table>
<h2 id="summaries">Scalar summaries against the scanned parameters</h2>
{''.join(summaries)}
<h2 id="details">Each run: figure, report, summaries, provenance</h2>
{''.join(sections)}
<h2 id="provenance">Provenance</h2>
{_provenance_section(infos)}
<script>{_SCRIPT}</script>
</body></html>
"""
    return body


def write_report(path, output, *, experiment: str | None = None,
                 progress: Callable[[float, float], None] | None = None) -> Path:
    """Write the report of archive ``path`` to ``output`` (atomically: whole or not at all)."""
    text = build_report(path, experiment=experiment, progress=progress)
    output = Path(output)
    fd, tmp = tempfile.mkstemp(dir=output.absolute().parent, prefix=f".{output.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # as an ordinary new file (mkstemp makes it private)
        os.replace(tmp, output)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return output

