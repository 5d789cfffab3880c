"""Finite-size analysis of the production runs in data/capacity/ (issue 14).

    python data/capacity_analysis.py                  # report on stdout
    python data/capacity_analysis.py --figures DIR    # also DIR/capacity-production-b<beta>.png
    python data/capacity_analysis.py --json out.json  # and the numbers

The runs (``data/capacity_production.py``: one file per kind, ensemble, beta
and N) are turned back into the curves of the library and go through the same
code as the ``hopfield-capacity`` experiment
(:func:`hopfield.threshold_series.series_from_curves`,
:func:`hopfield.experiments.capacity_result`, its report and figure), then
the two simulations are compared at the sizes both ran, and the classical
Hebbian alpha_c is extrapolated with the same finite-size treatment.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from hopfield.capacity import CapacityCurve  # noqa: E402
from hopfield.criterion import CriterionCurve  # noqa: E402
from hopfield.experiments import capacity_result, report_capacity  # noqa: E402
from hopfield.finite_size import CLASSICAL_FORMS, extrapolate, size_thresholds  # noqa: E402
from hopfield.threshold_series import CRITERIA, SeriesRun, series_from_curves  # noqa: E402

AGS = 0.138
ENSEMBLE_ORDER = ("spherical", "binary", "gaussian")


def load(kind):
    """``{(ensemble, beta): [npz data dict, ...]}`` sorted by N."""
    runs = {}
    for path in sorted(glob.glob(os.path.join(HERE, "capacity", f"{kind}-*.npz"))):
        with np.load(path) as f:
            data = {k: f[k] for k in f.files}
        data["n_features"] = int(data["n_features"])
        runs.setdefault((str(data["ensemble"]), float(data["beta"])), []).append(data)
    return {key: sorted(value, key=lambda d: d["n_features"]) for key, value in runs.items()}


def _curve(kind, d):
    """The library's curve object of one stored run."""
    common = dict(ensemble=str(d["ensemble"]), beta=float(d["beta"]), n_features=d["n_features"],
                  alphas=d["alphas"], n_patterns=d["n_patterns"], window=float(d["window"]))
    if kind == "full":
        return CapacityCurve(successes=d["successes"], trials=d["trials"], mean_overlap=d["mean_overlap"],
                             mean_iterations=d["mean_iterations"], signal_successes=d["signal_successes"],
                             streamed=True, **common)
    return CriterionCurve(success=d["success"], signal=d["signal"], log_noise=np.zeros((0, d["alphas"].shape[0])),
                          signal_norm=d["signal_norm"], tail_fraction=float(d["tail_fraction"]),
                          mean_drawn=float(d["mean_drawn"]), stratified=bool(d.get("stratified", False)),
                          **common)


def _series_run(kind, data, ensemble, beta):
    curves = [_curve(kind, d) for d in data]
    seconds = np.array([float(d["seconds"]) for d in data])
    return SeriesRun(curves, seconds, series_from_curves(curves, kind, ensemble, beta))


def modern(out, figures):
    """Per beta: the experiment's report and figure from the stored runs, then full vs REM at common N."""
    full, rem = load("full"), load("rem")
    summary = {}
    for beta in sorted({b for (_, b) in set(full) | set(rem) if b < 1.0}):
        ens_list = [e for e in ENSEMBLE_ORDER if (e, beta) in full or (e, beta) in rem]
        runs = {}
        for e, ens in enumerate(ens_list):
            for m, (kind, table) in enumerate((("full", full), ("rem", rem))):
                if (ens, beta) in table:
                    runs[e, m] = _series_run(kind, table[ens, beta], ens, beta)
        limit_runs = {b: _series_run("rem", rem["binary", b], "binary", b)
                      for (ens, b) in sorted(rem) if ens == "binary" and b >= 1.0}
        sizes = sorted({d["n_features"] for (ens, b), v in rem.items() if b == beta for d in v})
        result = capacity_result(beta, ens_list, runs, limit_runs, sizes)
        print(report_capacity(result), file=out)
        _compare(runs, ens_list, out)
        _seconds(runs, ens_list, out)
        summary[f"{beta:g}"] = {k: (float(v) if not isinstance(v, str) else v) for k, v in result.scalars.items()}
        if figures:
            from statmech import figures as fg
            from statmech.registry import get_experiment

            fig = fg.render(get_experiment("hopfield-capacity"), result, note="production runs, data/capacity/*.npz")
            path = os.path.join(figures, f"capacity-production-b{beta:g}.png")
            fg.save(fig, path, dpi=110)
            print(f"figure written to {path}", file=out)
        print(file=out)
    return summary


def _compare(runs, ens_list, out):
    """Full dynamics minus REM level at the sizes both ran, per ensemble and criterion."""
    for e, ens in enumerate(ens_list):
        if (e, 0) not in runs or (e, 1) not in runs:
            continue
        for criterion in CRITERIA:
            a = runs[e, 0].series[criterion].thresholds
            b = runs[e, 1].series[criterion].thresholds
            common = sorted(set(a.n_features.tolist()) & set(b.n_features.tolist()))
            if not common:
                continue
            cells = []
            for n in common:
                i, j = a.n_features.tolist().index(n), b.n_features.tolist().index(n)
                diff = a.alpha_half[i] - b.alpha_half[j]
                err = math.hypot(a.alpha_half_err[i], b.alpha_half_err[j])
                cells.append(f"{n}: {diff:+.4f}±{err:.4f}")
            print(f"  {ens}, {criterion}: full - REM at the same N: " + "; ".join(cells), file=out)


def _seconds(runs, ens_list, out):
    for e, ens in enumerate(ens_list):
        for m, kind in enumerate(("full", "rem")):
            if (e, m) in runs:
                run = runs[e, m]
                cells = ", ".join(f"{c.n_features}: {s:.0f}" for c, s in zip(run.curves, run.seconds))
                print(f"  wall seconds, {kind} {ens} (shared machine, nice 10): {cells}", file=out)


def classical(out):
    runs = load("classical").get(("binary", 0.0), [])
    if not runs:
        return {}
    rows = [{"n_features": d["n_features"], "alphas": d["alphas"], "successes": d["successes"], "trials": d["trials"]}
            for d in runs]
    th = size_thresholds(rows, label="classical")
    print("== classical Hebbian network (alpha = P/N), retrieved: final overlap >= 0.9, async dynamics", file=out)
    cells = "; ".join(f"{n}: {a:.4f}±{e:.4f}" for n, a, e in zip(th.n_features, th.alpha_half, th.alpha_half_err))
    print(f"  alpha_1/2(N): {cells}", file=out)
    result = {"n": th.n_features.tolist(), "alpha_half": th.alpha_half.tolist(),
              "alpha_half_err": th.alpha_half_err.tolist()}
    if th.n_features.shape[0] >= 3:
        ex = extrapolate(th, CLASSICAL_FORMS)
        for f, w in zip(ex.fits, ex.weights):
            print(f"  fit {f.form.name:<20} alpha_c = {f.limit:.4f} ± {f.limit_err:.4f}  chi2 = {f.chi2:6.2f} / "
                  f"{f.dof}  p = {f.p_value:.3f}  weight {w:.2f}", file=out)
        print(f"  -> alpha_c = {ex.limit:.4f} ± {ex.total_err:.4f} (stat {ex.stat_err:.4f}, spread of the forms "
              f"{ex.spread:.4f}); AGS {AGS}: {(ex.limit - AGS) / ex.total_err:+.1f} errors", file=out)
        result.update(alpha_c=ex.limit, alpha_c_err=ex.total_err, stat=ex.stat_err, spread=ex.spread)
    seconds = ", ".join(f"{d['n_features']}: {float(d['seconds']):.0f}" for d in runs)
    print(f"  wall seconds (shared machine, nice 10): {seconds}", file=out)
    return result


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the numbers to this file")
    parser.add_argument("--figures", help="directory for the production figures")
    args = parser.parse_args(argv)
    report = {"modern": modern(sys.stdout, args.figures), "classical": classical(sys.stdout)}
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
