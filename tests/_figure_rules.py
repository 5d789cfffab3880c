"""Rules a statmech figure must meet (issue 12), checked on a drawn matplotlib Figure.

:func:`check_figure` returns every violation as a string naming the axes
(``"axes 2 'alpha_{1/2}' ..."``), so one failing test lists all of them.

Rules
-----
- the figure has a title (suptitle) and no title holds the run ID; the
  footer does;
- every visible axes has x and y labels ending in a unit in parentheses,
  ``"name symbol (unit)"`` (:func:`statmech.figures.axis_label`); a colour
  bar's label too;
- no axes is empty (each draws finite data), no axis is switched off;
- an axes with more than one labelled artist has a legend; every mark, line,
  band and colour map of an axes drawing more than one thing is named by a
  legend entry (its own label, or the entry :func:`statmech.figures.explain`
  points at) or by a colour bar; straight guide lines
  (:func:`statmech.figures.guide`) are exempt;
- no legend covers a point of a line or a marker;
- log axes show at least two labelled ticks; tick labels do not overlap;
- no text is smaller than the footer's font or runs off the canvas; panels do not
  overlap (an inset lies wholly inside its parent); the footer covers nothing;
- no empty region of the figure larger than :data:`MAX_EMPTY_FRACTION` of it
  (a grid of panels with unused slots).
"""

from __future__ import annotations

import re

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import Collection
from matplotlib.container import Container
from matplotlib.image import AxesImage
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.text import Text

from statmech.figures import FOOTER_FONTSIZE

#: Largest empty rectangle allowed, as a fraction of the figure's area.
MAX_EMPTY_FRACTION = 0.12
_GRID = 48
_UNIT = re.compile(r"\S.*\((?:[^()]|\([^()]*\))+\)\s*$", re.S)


def _is_colorbar(ax) -> bool:
    return getattr(ax, "_colorbar", None) is not None


def _flatten(container):
    for item in container:
        if item is None:
            continue
        if isinstance(item, (list, tuple)):
            yield from _flatten(item)
        else:
            yield item


def _has_finite_data(artist) -> bool:
    if isinstance(artist, Line2D):
        xy = np.asarray(artist.get_xydata(), dtype=float)
        return bool(xy.size and np.isfinite(xy).all(axis=1).any())
    if isinstance(artist, AxesImage):
        arr = np.ma.masked_invalid(np.asarray(artist.get_array(), dtype=float))
        return bool(arr.count())
    if isinstance(artist, Collection):
        offsets = np.asarray(artist.get_offsets(), dtype=float)
        if offsets.size and np.isfinite(offsets).all(axis=1).any() and len(artist.get_paths()):
            return True
        for path in artist.get_paths():
            v = np.asarray(path.vertices, dtype=float)
            if v.size and np.isfinite(v).all(axis=1).any():
                return True
        return False
    if isinstance(artist, Patch):
        return artist.get_visible()
    return False


def _data_artists(ax):
    out = [a for a in (*ax.lines, *ax.collections, *ax.patches, *ax.images) if a.get_visible()]
    return [a for a in out if _has_finite_data(a)]


def _legend_texts(fig) -> set[str]:
    texts = set()
    for leg in fig.findobj(Legend):  # axes, figure and subfigure legends
        if leg.get_visible():
            texts.update(t.get_text() for t in leg.get_texts() if t.get_text())
    return texts


def _own_legends(ax):
    return [child for child in ax.get_children() if isinstance(child, Legend)]


def _label_of(artist, owners) -> str:
    owner = owners.get(id(artist))
    label = owner.get_label() if owner is not None else artist.get_label()
    return label if isinstance(label, str) else ""


def _is_straight_guide(artist) -> bool:
    if not isinstance(artist, Line2D):
        return False
    xy = np.asarray(artist.get_xydata(), dtype=float)
    return xy.shape[0] >= 2 and (np.ptp(xy[:, 0]) == 0 or np.ptp(xy[:, 1]) == 0)


def _describe(k, ax) -> str:
    name = ax.get_title() or ax.get_ylabel() or ax.get_xlabel()
    return f"axes {k} {name[:40]!r}"


def _check_labels(where, ax, out):
    if not ax.axison:
        out.append(f"{where}: axis switched off (no ticks, no labels)")
        return
    for which, text in (("x", ax.get_xlabel()), ("y", ax.get_ylabel())):
        if not text.strip():
            out.append(f"{where}: no {which} label")
        elif not _UNIT.match(text):
            out.append(f"{where}: {which} label {text!r} has no unit in parentheses")


def _check_legends(where, ax, owners, legend_texts, out):
    artists = _data_artists(ax)
    labelled = {_label_of(a, owners) for a in artists}
    labelled = {lab for lab in labelled if lab and not lab.startswith("_")}
    if len(labelled) > 1 and not _own_legends(ax) and not labelled <= legend_texts:
        out.append(f"{where}: {len(labelled)} labelled artists but no legend")
    explained = [a for a in artists if a.get_gid() != "guide"]
    for a in artists:
        if a.get_gid() == "guide" and not _is_straight_guide(a):
            out.append(f"{where}: {type(a).__name__} tagged as guide is not a straight "
                       "horizontal/vertical line")
    if len(explained) <= 1:
        return
    for a in explained:
        mapped = isinstance(a, ScalarMappable) and a.get_array() is not None
        if mapped and not isinstance(a, Line2D):
            continue  # colour maps are checked against the colour bars
        label = _label_of(a, owners)
        gid = a.get_gid() or ""
        if label and not label.startswith("_") and label in legend_texts:
            continue
        if gid.startswith("legend:") and gid[len("legend:"):] in legend_texts:
            continue
        what = label if label and not label.startswith("_") else gid or "unlabelled"
        out.append(f"{where}: {type(a).__name__} ({what}) is not named by any legend entry")


def _check_colormaps(where, ax, colorbars, out):
    for a in _data_artists(ax):
        if not isinstance(a, ScalarMappable) or a.get_array() is None:
            continue
        if isinstance(a, Collection) and np.asarray(a.get_array()).size <= 1:
            continue
        if not any(cb.mappable is a or cb.mappable.norm is a.norm for cb in colorbars):
            out.append(f"{where}: colour-mapped {type(a).__name__} has no colour bar")


def _visible_ticklabels(axis, renderer):
    lo, hi = sorted(axis.get_view_interval())
    labels = []
    for tick in (*axis.get_major_ticks(), *axis.get_minor_ticks()):
        loc = tick.get_loc()
        if loc is None or not (lo - 1e-12 * abs(hi - lo) <= loc <= hi + 1e-12 * abs(hi - lo)):
            continue
        for lab in (tick.label1, tick.label2):
            if lab.get_visible() and lab.get_text().strip():
                labels.append(lab)
    return labels


def _check_legend_placement(where, ax, owners, renderer, out):
    """No measured or computed point (a vertex of a line or a marker) lies under a legend."""
    boxes = [leg.get_window_extent(renderer) for leg in _own_legends(ax) if leg.get_visible()]
    if not boxes:
        return
    for line in ax.lines:
        if not line.get_visible() or line.get_gid() == "guide":
            continue
        if line.get_transform() != ax.transData:  # axvline/axhline: ends on the axes' edges
            continue
        xy = np.asarray(line.get_xydata(), dtype=float)
        xy = xy[np.isfinite(xy).all(axis=1)]
        if not xy.size:
            continue
        pts = line.get_transform().transform(xy)
        for box in boxes:
            inside = ((pts[:, 0] > box.x0) & (pts[:, 0] < box.x1)
                      & (pts[:, 1] > box.y0) & (pts[:, 1] < box.y1))
            if inside.any():
                label = _label_of(line, owners)
                label = label if label and not label.startswith("_") else line.get_gid()
                out.append(f"{where}: a legend covers {int(inside.sum())} point(s) of {label!r}")
                break


def _check_ticks(where, ax, renderer, out):
    for name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
        if not axis.get_visible():
            continue
        labels = _visible_ticklabels(axis, renderer)
        if axis.get_scale() == "log" and len(labels) < 2:
            out.append(f"{where}: log {name} axis shows {len(labels)} labelled tick(s)")
        boxes = sorted((lab.get_window_extent(renderer) for lab in labels),
                       key=lambda b: (b.x0, b.y0))
        for a, b in zip(boxes, boxes[1:]):
            if a.overlaps(b) and a.intersection(a, b).width * a.intersection(a, b).height > 1.0:
                out.append(f"{where}: {name} tick labels overlap")
                break


def _check_inside(fig, renderer, out):
    """Every text lies on the canvas (a long title is not cut off at the edges)."""
    canvas = fig.bbox
    ticks, shown = set(), []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for tick in (*axis.get_major_ticks(), *axis.get_minor_ticks()):
                ticks.update((id(tick.label1), id(tick.label2)))
            if axis.get_visible() and ax.axison:
                shown += _visible_ticklabels(axis, renderer)
    texts = [t for t in fig.findobj(Text) if id(t) not in ticks] + shown
    for text in texts:
        if not (text.get_visible() and text.get_text().strip()):
            continue
        box = text.get_window_extent(renderer)
        if (box.x0 < canvas.x0 - 1 or box.x1 > canvas.x1 + 1 or box.y0 < canvas.y0 - 1
                or box.y1 > canvas.y1 + 1):
            out.append(f"figure: text {text.get_text()[:40]!r} runs off the canvas")


def _check_fonts(fig, out):
    small = set()
    for text in fig.findobj(Text):
        shown = text.get_visible() and text.get_text().strip()
        if shown and text.get_fontsize() < FOOTER_FONTSIZE - 1e-9:
            small.add(f"{text.get_text()[:30]!r} at {text.get_fontsize():.1f} pt")
    for item in sorted(small):
        out.append(f"figure: text {item} is smaller than {FOOTER_FONTSIZE} pt")


def _area(a, b) -> float:
    w = min(a.x1, b.x1) - max(a.x0, b.x0)
    h = min(a.y1, b.y1) - max(a.y0, b.y0)
    return max(w, 0.0) * max(h, 0.0)


def _check_overlaps(fig, renderer, out):
    panels = [(k, ax, ax.get_window_extent(renderer)) for k, ax in enumerate(fig.axes)
              if ax.get_visible()]
    for i, (k, _, a) in enumerate(panels):
        for m, _, b in panels[i + 1:]:
            inside = _area(a, b) >= min(a.width * a.height, b.width * b.height) - 1.0
            if _area(a, b) > 1.0 and not inside:
                out.append(f"figure: axes {k} and axes {m} overlap")
    labels = []
    for k, ax, _ in panels:
        texts = [ax.xaxis.label, ax.yaxis.label, ax.title, ax._left_title, ax._right_title]
        texts += _visible_ticklabels(ax.xaxis, renderer) + _visible_ticklabels(ax.yaxis, renderer)
        for text in texts:
            if text.get_visible() and text.get_text().strip():
                labels.append((k, f"axes {k} {text.get_text()[:25]!r}",
                               text.get_window_extent(renderer)))
    for i, (k, name_a, a) in enumerate(labels):
        for m, name_b, b in labels[i + 1:]:
            if m != k and _area(a, b) > 1.0:
                out.append(f"figure: labels {name_a} and {name_b} overlap")
        for m, _, panel in panels:
            if m != k and _area(a, panel) > 1.0 and not _is_colorbar(fig.axes[m]):
                out.append(f"figure: label {name_a} lies under axes {m}")
    footers = [t for t in fig.findobj(Text) if t.get_gid() == "footer" and t.get_visible()]
    for text in footers:
        box = text.get_window_extent(renderer)
        for k, ax, _ in panels:
            if _area(box, ax.get_tightbbox(renderer)) > 1.0:
                out.append(f"figure: the footer covers part of axes {k} (labels or ticks)")
        for leg in fig.findobj(Legend):
            if leg.get_visible() and _area(box, leg.get_window_extent(renderer)) > 1.0:
                out.append("figure: the footer covers part of a legend")


def _largest_empty_fraction(fig, renderer) -> float:
    width, height = fig.bbox.width, fig.bbox.height
    boxes = [ax.get_tightbbox(renderer) for ax in fig.axes if ax.get_visible()]
    boxes += [t.get_window_extent(renderer) for t in fig.texts if t.get_visible()]
    if fig._suptitle is not None and fig._suptitle.get_text():
        boxes.append(fig._suptitle.get_window_extent(renderer))
    boxes += [leg.get_window_extent(renderer) for leg in fig.legends]
    xs = (np.arange(_GRID) + 0.5) * width / _GRID
    ys = (np.arange(_GRID) + 0.5) * height / _GRID
    covered = np.zeros((_GRID, _GRID), dtype=bool)  # [row (y), column (x)]
    for box in boxes:
        if box is None:
            continue
        covered |= ((ys[:, None] >= box.y0) & (ys[:, None] <= box.y1)
                    & (xs[None, :] >= box.x0) & (xs[None, :] <= box.x1))
    best = 0
    heights = np.zeros(_GRID, dtype=int)
    for row in range(_GRID):  # largest all-empty rectangle: histogram method
        heights = np.where(covered[row], 0, heights + 1)
        stack = []
        for col in range(_GRID + 1):
            h = heights[col] if col < _GRID else 0
            start = col
            while stack and stack[-1][1] >= h:
                start, top = stack.pop()
                best = max(best, top * (col - start))
            stack.append((start, h))
    return best / (_GRID * _GRID)


def check_figure(fig, *, run_id: str = "") -> list[str]:
    """Every violation of the figure rules (module docstring); empty when the figure is fine.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Drawn by :func:`statmech.figures.render` (or any figure).
    run_id : str
        The run ID the footer must hold and no title may.
    """
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    out = []
    suptitle = fig._suptitle.get_text() if fig._suptitle is not None else ""
    if not suptitle.strip():
        out.append("figure: no title (suptitle) saying what is shown")
    titles = [suptitle] + [ax.get_title(loc) for ax in fig.axes
                           for loc in ("left", "center", "right")]
    if run_id and any(run_id in t for t in titles):
        out.append(f"figure: a title holds the run ID {run_id}")
    if run_id and not any(run_id in t.get_text() for t in fig.texts if t.get_gid() == "footer"):
        out.append(f"figure: the footer does not hold the run ID {run_id}")
    legend_texts = _legend_texts(fig)
    colorbars = [ax._colorbar for ax in fig.axes if _is_colorbar(ax)]
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        where = _describe(k, ax)
        if _is_colorbar(ax):
            cb = ax._colorbar
            label = (ax.get_ylabel() if cb.orientation == "vertical" else ax.get_xlabel())
            if not _UNIT.match(label or ""):
                out.append(f"{where}: colour bar label {label!r} has no unit in parentheses")
            continue
        owners = {}
        for container in ax.containers:
            if isinstance(container, Container):
                for child in _flatten(container):
                    owners[id(child)] = container
        if not _data_artists(ax):
            out.append(f"{where}: empty (no finite data drawn)")
            continue
        _check_labels(where, ax, out)
        _check_legends(where, ax, owners, legend_texts, out)
        _check_colormaps(where, ax, colorbars, out)
        _check_ticks(where, ax, renderer, out)
        _check_legend_placement(where, ax, owners, renderer, out)
    _check_fonts(fig, out)
    _check_inside(fig, renderer, out)
    _check_overlaps(fig, renderer, out)
    empty = _largest_empty_fraction(fig, renderer)
    if empty > MAX_EMPTY_FRACTION:
        out.append(f"figure: an empty region covers {empty:.0%} of the figure "
                   f"(limit {MAX_EMPTY_FRACTION:.0%}): unused panel slots?")
    return out
