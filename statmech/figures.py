"""Figure conventions shared by every experiment's plot function.

One place decides how a statmech figure reads, so that all of them read the
same way, as figures in a paper:

- a title in physics words (:func:`title`); the run ID goes in a small
  grey footer (:func:`footer`), never in the title;
- every axis labelled with a name, its symbol and its unit, or
  "dimensionless" (:func:`axis_label`, :func:`label_axes`);
- one line style per kind of curve: simulation/measurement as markers with
  error bars (:data:`DATA`), theory at the size simulated as solid lines
  (:data:`THEORY`), the large-size limit as a black dashed line
  (:data:`LIMIT`), exact finite-size predictions dotted (:data:`FINITE`),
  fitted lines broad and translucent with a shaded band (:func:`fit_band`,
  :func:`power_law_fit`), and labelled vertical markers for critical points
  (:func:`mark`);
- a legend for every mark, line and colour map, placed off the data
  (:func:`legend`; entries shared by several panels in one :func:`figure_legend`).
  Per-series colours name the series (``d = 64``); line
  styles are named once (``legend(ax, styles=...)`` or :func:`style_legend`)
  and each styled curve points at its entry with :func:`explain`. Straight
  guide lines (zero, identity) are tagged with :func:`guide`;
- log axes with readable ticks (:func:`log_axis`); long titles wrapped to
  the figure's width (:func:`title`).

:func:`render` draws an experiment's result into a new Figure the way the
command line saves it (size from the experiment, constrained layout, run-ID
footer). ``tests/test_figures.py`` checks these rules on every registered
experiment.
"""

from __future__ import annotations

import math
import re

import numpy as np

__all__ = [
    "DATA",
    "THEORY",
    "LIMIT",
    "FINITE",
    "FIT",
    "MARK",
    "BAND_ALPHA",
    "LEGEND",
    "FOOTER_FONTSIZE",
    "FOOTER_HEIGHT",
    "DIMENSIONLESS",
    "axis_label",
    "label_axes",
    "title",
    "wrap_title",
    "footer",
    "log_axis",
    "mark",
    "guide",
    "explain",
    "style_legend",
    "legend",
    "figure_legend",
    "fit_band",
    "power_law_fit",
    "render",
    "save",
]

#: Measured points: markers with error bars (pass ``fmt``/``color`` per series).
DATA = {"ms": 4, "capsize": 2, "elinewidth": 1.0, "lw": 0}
#: Theory evaluated at the simulated size (per-series colour).
THEORY = {"ls": "-", "lw": 1.4}
#: Large-size (thermodynamic) limit.
LIMIT = {"color": "k", "ls": "--", "lw": 1.4}
#: Exact finite-size prediction of the same estimator (per-series colour).
FINITE = {"ls": ":", "lw": 1.4}
#: A fitted line: broad and translucent, so a theory line on top of it stays visible; its
#: band is drawn with :data:`BAND_ALPHA`.
FIT = {"ls": "-", "lw": 2.6, "alpha": 0.5}
#: A vertical (or horizontal) marker of a critical value.
MARK = {"color": "0.35", "ls": ":", "lw": 1.1}
#: Opacity of bands (fit bands, standard-error bands, spans).
BAND_ALPHA = 0.2
#: Legend keyword arguments.
LEGEND = {"frameon": True, "framealpha": 0.85, "edgecolor": "none", "fontsize": 8}
#: Font size of the run-ID footer (the smallest text a figure may hold).
FOOTER_FONTSIZE = 6.5
#: Height (inches) of the strip the footer takes at the bottom of the figure.
FOOTER_HEIGHT = 0.16
#: Unit string of a pure number.
DIMENSIONLESS = "dimensionless"

_GUIDE = "guide"
_EXPLAINED = "legend:"


def axis_label(name: str, symbol: str = "", unit: str = DIMENSIONLESS) -> str:
    """An axis label ``"name symbol (unit)"``.

    Parameters
    ----------
    name : str
        What the axis measures in words (``"inverse temperature"``); may be "".
    symbol : str
        Its symbol in mathtext (``r"$\\beta$"``); may be "".
    unit : str
        Its unit (``"1/energy"``, ``"OU time"``) or :data:`DIMENSIONLESS`.

    Returns
    -------
    str
    """
    if not unit:
        raise ValueError(f"axis_label needs a unit (or {DIMENSIONLESS!r}), got {unit!r}")
    head = " ".join(part for part in (name, symbol) if part)
    if not head:
        raise ValueError(f"axis_label needs a name or a symbol, got name={name!r}, "
                         f"symbol={symbol!r}")
    return f"{head} ({unit})"


def label_axes(ax, x, y):
    """Label ``ax``: ``x`` and ``y`` are ``(name, symbol, unit)`` tuples (:func:`axis_label`)."""
    ax.set_xlabel(axis_label(*x))
    ax.set_ylabel(axis_label(*y))
    return ax


def _visible_length(word: str) -> int:
    """Rough printed width of ``word`` in characters (mathtext commands count as one)."""
    return len(re.sub(r"\\[A-Za-z]+", "x", re.sub(r"[${}^_]", "", word)))


def wrap_title(text: str, width_inches: float, fontsize: float) -> str:
    """Break ``text`` at spaces outside ``$...$`` so each line fits ``width_inches``."""
    per_line = max(20, int(width_inches * 72 / (0.55 * fontsize)))
    words, group = [], []
    for word in text.split(" "):  # keep each $...$ group whole
        group.append(word)
        if " ".join(group).count("$") % 2 == 0:
            words.append(" ".join(group))
            group = []
    if group:
        words.append(" ".join(group))
    lines, line = [], ""
    for word in words:
        candidate = f"{line} {word}" if line else word
        if line and _visible_length(candidate) > per_line:
            lines.append(line)
            line = word
        else:
            line = candidate
    lines.append(line)
    return "\n".join(lines)


def title(fig, text: str, *, fontsize: float = 11):
    """Set the figure's title: what the figure shows, in physics words (no run ID).

    Long titles are broken into lines that fit the figure's width.
    """
    return fig.suptitle(wrap_title(text, fig.get_figwidth(), fontsize), fontsize=fontsize)


def footer(fig, text: str):
    """Small grey footer in the figure's bottom-right corner (run ID, archive, parameters).

    With constrained layout (as :func:`render` draws), the layout is told to
    leave a strip of :data:`FOOTER_HEIGHT` at the bottom, so the footer never
    covers an axis label or a figure legend.
    """
    engine = fig.get_layout_engine()
    strip = FOOTER_HEIGHT / fig.get_figheight()
    if engine is not None and hasattr(engine, "set") and "rect" in engine.get():
        left, bottom, width, height = engine.get()["rect"]
        if bottom < strip:
            engine.set(rect=(left, strip, width, height - (strip - bottom)))
    return fig.text(0.995, 0.25 * strip, text, ha="right", va="bottom",
                    fontsize=FOOTER_FONTSIZE, color="0.45", gid="footer")


class _LogLabels:
    """Tick labels of a log axis: ``10^k`` at decades; ``2x10^k`` and ``5x10^k`` too when
    fewer than two decades are in view (decided at draw time, from the view limits)."""

    def __init__(self, axis):
        self.axis = axis

    def __call__(self, value, pos=None):
        if not value > 0:
            return ""
        exponent = math.floor(math.log10(value) + 1e-9)
        mantissa = round(value / 10.0**exponent, 6)
        lo, hi = sorted(self.axis.get_view_interval())
        decades = (math.floor(math.log10(hi) + 1e-9) - math.ceil(math.log10(lo) - 1e-9) + 1
                   if lo > 0 else 2)
        if mantissa == 1:
            return rf"$10^{{{exponent}}}$"
        if decades < 2 and mantissa in (2, 5):
            return rf"${mantissa:g}\times 10^{{{exponent}}}$"
        return ""


def log_axis(ax, axis: str = "y", *, max_decades_labelled: int = 7):
    """Log scale with readable ticks.

    Whole decades carry ``10^k`` labels (thinned to every 2nd, 3rd...
    decade beyond ``max_decades_labelled``); when fewer than two decades are
    in view, ``2x10^k`` and ``5x10^k`` are labelled as well, so every log axis
    shows at least two numbers.
    """
    from matplotlib.ticker import FuncFormatter, LogLocator

    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    target = ax.xaxis if axis == "x" else ax.yaxis
    labels = FuncFormatter(_LogLabels(target))
    target.set_major_locator(LogLocator(base=10.0, numticks=max_decades_labelled + 1))
    target.set_major_formatter(labels)
    target.set_minor_locator(LogLocator(base=10.0, subs=np.arange(2, 10) * 1.0, numticks=100))
    target.set_minor_formatter(labels)
    return ax


def mark(ax, value: float, label: str, *, axis: str = "x", **style):
    """Vertical (``axis="x"``) or horizontal line at a critical value, with its legend label."""
    if axis not in ("x", "y"):
        raise ValueError(f"axis must be 'x' or 'y', got {axis!r}")
    draw = ax.axvline if axis == "x" else ax.axhline
    return draw(value, label=label, **{**MARK, **style})


def guide(artist):
    """Tag a straight horizontal/vertical guide line (zero, one) that needs no legend entry."""
    artist.set_gid(_GUIDE)
    return artist


def explain(artist, entry: str):
    """Say that ``artist`` is explained by the legend entry ``entry`` (a style or a series).

    Used for per-series curves whose colour is named by the series' legend
    entry and whose line style is named by a :func:`style_legend` entry.
    Returns ``artist``; lists/tuples (an errorbar container) are tagged
    element by element.
    """
    if artist is None:
        return artist
    if isinstance(artist, (list, tuple)):  # also an ErrorbarContainer / BarContainer
        for item in artist:
            explain(item, entry)
        return artist
    artist.set_gid(_EXPLAINED + entry)
    return artist


def _style_handles(entries):
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = []
    for label, style in entries:
        style = dict(style)
        if style.pop("band", False):
            handles.append(Patch(color=style.get("color", "0.5"), alpha=BAND_ALPHA, label=label))
            continue
        style.setdefault("color", "k")
        if "fmt" in style:
            style.setdefault("marker", style.pop("fmt"))
            style.setdefault("ls", "none")
        for key in ("capsize", "elinewidth"):
            style.pop(key, None)
        handles.append(Line2D([], [], label=label, **style))
    return handles


def style_legend(ax, entries, *, loc="best", **kwargs):
    """Add a legend naming line styles: ``entries`` is a list of ``(label, style dict)``.

    Each style is drawn in black (unless it sets a colour) as a proxy line,
    a marker (``{"fmt": "o"}``) or, with ``{"band": True}``, a grey band. It
    is added as an extra artist, so the axes' ordinary legend (series) stays.
    """
    leg = ax.legend(handles=_style_handles(entries), loc=loc, **{**LEGEND, **kwargs})
    ax.add_artist(leg)
    return leg


def legend(ax, styles=(), *, outside: bool = False, **kwargs):
    """The axes' legend in the shared style (:data:`LEGEND`), placed where it covers least.

    ``styles``: ``(label, style dict)`` entries naming line styles (see
    :func:`style_legend`), listed after the labelled artists. ``outside``:
    to the right of the axes (constrained layout makes room), for panels
    whose data leave no free corner.
    """
    handles, labels = ax.get_legend_handles_labels()
    handles += _style_handles(styles)
    where = {"loc": "upper left", "bbox_to_anchor": (1.01, 1.0)} if outside else {"loc": "best"}
    return ax.legend(handles=handles, **{**where, **LEGEND, **kwargs})


def figure_legend(fig, styles=(), *, handles=(), below: bool = False, **kwargs):
    """A legend of the whole figure for entries shared by several panels (constrained layout makes room).

    Each panel's curves point at its entries with :func:`explain`; the panels'
    own legends then hold only what is particular to each (values, theories).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    styles : sequence of (str, dict)
        Line-style entries as in :func:`style_legend`, listed after ``handles``.
    handles : sequence of matplotlib artists
        Labelled artists (or proxies) to name.
    below : bool
        Under the panels, above the footer's strip (:data:`FOOTER_HEIGHT`);
        otherwise right of the panels, half-way up, clear of the title and the footer.
    """
    entries = [*handles, *_style_handles(styles)]
    if below:
        pad = FOOTER_HEIGHT * 72 / LEGEND["fontsize"] + 0.3  # legend units: font sizes; the strip plus a gap
        where = {"loc": "outside lower center", "borderaxespad": pad}
    else:
        where = {"loc": "outside center right"}
    return fig.legend(handles=entries, **{**where, **LEGEND, **kwargs})


def fit_band(ax, x, y, lo, hi, *, label: str, color="C0", **style):
    """A fitted curve ``y(x)`` with its band ``[lo, hi]`` (both explained by ``label``)."""
    kw = {**FIT, **style}
    (line,) = ax.plot(x, y, color=color, label=label, **kw)
    band = ax.fill_between(x, lo, hi, color=color, alpha=BAND_ALPHA, lw=0)
    explain(band, label)
    return line, band


def power_law_fit(ax, window, amplitude, exponent, stderr, *, label: str, color="C0",
                  n_sigma: float = 2.0, n_points: int = 50):
    """Fitted ``y = A x^p`` over ``window`` with a band of ``n_sigma`` slope standard errors.

    The band pivots at the geometric centre of the window (the centroid of
    log-spaced fit points, where the slope's error does not move the line):
    ``A x^p exp(+- n_sigma stderr |ln x - ln x_mid|)``.
    """
    lo, hi = float(window[0]), float(window[1])
    if not 0 < lo < hi:
        raise ValueError(f"window must be 0 < low < high, got {window!r}")
    x = np.geomspace(lo, hi, n_points)
    y = amplitude * x**exponent
    spread = np.exp(n_sigma * abs(stderr) * np.abs(np.log(x) - 0.5 * math.log(lo * hi)))
    return fit_band(ax, x, y, y / spread, y * spread, label=label, color=color)


def render(spec, result, *, run_id: str = "", note: str = ""):
    """Draw ``result`` with ``spec.plot`` into a new Figure, as the command line saves it.

    Parameters
    ----------
    spec : statmech.registry.ExperimentSpec
        The experiment (its ``plot`` and ``figsize`` are used).
    result : statmech.registry.ExperimentResult
    run_id : str
        Run ID for the footer ("" for none).
    note : str
        Extra footer text (archive, varied parameters).

    Returns
    -------
    matplotlib.figure.Figure
    """
    from matplotlib.figure import Figure

    if spec.plot is None:
        raise ValueError(f"experiment {spec.name!r} has no plot function")
    fig = Figure(figsize=spec.figsize, layout="constrained")
    returned = spec.plot(result, fig)
    if returned is not None and hasattr(returned, "savefig"):
        fig = returned
    text = "  ".join(part for part in (f"{spec.name} run {run_id}" if run_id else spec.name, note)
                     if part)
    footer(fig, text)
    return fig


def save(fig, path, *, dpi: int = 120):
    """Save the figure as laid out (no ``bbox_inches="tight"``: a tight crop moves figure
    legends placed outside the axes onto the footer)."""
    fig.savefig(path, dpi=dpi)
    return path
