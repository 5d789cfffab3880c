"""Finite-size analysis of the production runs in data/capacity/ (issue 14).

    python data/capacity_analysis.py            # tables on stdout
    python data/capacity_analysis.py --json out.json

Per ensemble and beta: alpha_{1/2}(N) of the full streamed dynamics and of the
REM-level criteria (fixed point and signal-to-noise), next to the finite-N
theory at every N; fits of the finite-size forms with chi^2; alpha_1 with its
total error against the REM theory. Then the classical Hebbian alpha_c.
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

from hopfield.capacity import alpha_1, finite_size_alpha_1  # noqa: E402
from hopfield.criterion import binary_infinite_beta_thresholds, finite_size_signal_alpha  # noqa: E402
from hopfield.finite_size import (  # noqa: E402
    CLASSICAL_FORMS,
    FIXED_POINT_FORMS,
    SIGNAL_FORMS,
    extrapolate,
    size_thresholds,
)

AGS = 0.138


def load(kind):
    runs = {}
    for path in sorted(glob.glob(os.path.join(HERE, "capacity", f"{kind}-*.npz"))):
        with np.load(path) as f:
            data = {k: f[k] for k in f.files}
        key = (str(data["ensemble"]), float(data["beta"]))
        data["n_features"] = int(data["n_features"])
        runs.setdefault(key, []).append(data)
    return runs


def _fit_summary(ex):
    return {
        "limit": ex.limit, "stat_err": ex.stat_err, "spread": ex.spread, "total_err": ex.total_err,
        "best": ex.best.form.name, "accepted": list(ex.accepted),
        "fits": [{"form": f.form.name, "limit": f.limit, "limit_err": f.limit_err, "chi2": f.chi2,
                  "dof": f.dof, "p_value": f.p_value, "coefficients": list(map(float, f.coefficients))}
                 for f in ex.fits],
    }


def _print_fits(th, forms, name, out):
    """Fit every form, print one line per fit (``*``: accepted) and the combined value; return it."""
    ex = extrapolate(th, forms)
    for f in ex.fits:
        flag = "*" if f.form.name in ex.accepted else " "
        print(f"   {flag} fit {f.form.name:<30} {name} = {f.limit:.4f} ± {f.limit_err:.4f}"
              f"  chi2 = {f.chi2:6.2f} / {f.dof}  p = {f.p_value:.3f}", file=out)
    print(f"   => {name} = {ex.limit:.4f} ± {ex.total_err:.4f} (stat {ex.stat_err:.4f}, spread "
          f"{ex.spread:.4f})", file=out)
    return ex


def _thresholds(curves, field, label):
    rows = []
    for c in curves:
        if field in ("success", "signal"):
            rows.append({"n_features": c["n_features"], "alphas": c["alphas"], "success": c[field]})
        else:
            rows.append({"n_features": c["n_features"], "alphas": c["alphas"], "successes": c[field],
                         "trials": c["trials"]})
    return size_thresholds(rows, label=label)


def analyse_modern(out):
    full, rem = load("full"), load("rem")
    report = {}
    for key in sorted(set(full) | set(rem)):
        ensemble, beta = key
        theory = alpha_1(ensemble, beta)
        entry = {"alpha_1_theory": theory, "series": {}}
        sources = []
        if key in full:
            sources += [("full fixed point", full[key], "successes", FIXED_POINT_FORMS),
                        ("full signal", full[key], "signal_successes", SIGNAL_FORMS)]
        if key in rem:
            sources += [("REM fixed point", rem[key], "success", FIXED_POINT_FORMS),
                        ("REM signal", rem[key], "signal", SIGNAL_FORMS)]
        print(f"\n=== {ensemble}, beta = {beta}: alpha_1 (REM theory) = {theory:.4f}", file=out)
        for label, curves, field, forms in sources:
            th = _thresholds(curves, field, label)
            fixed = "fixed" in label
            finite = np.array([finite_size_alpha_1(ensemble, beta, int(n)) if fixed
                               else finite_size_signal_alpha(ensemble, beta, int(n)) for n in th.n_features])
            seconds = {c["n_features"]: float(c["seconds"]) for c in curves}
            if th.unbracketed:
                print(f"-- {label}: grid does not bracket the crossing at N = {list(th.unbracketed)}", file=out)
            if th.n_features.shape[0] == 0:
                continue
            print(f"-- {label}: alpha_1/2(N) vs finite-N theory "
                  f"({'annealed map, finite_size_alpha_1' if fixed else 'annealed w_1 = 1/2'})", file=out)
            print(f"   {'N':>4} {'alpha_1/2':>10} {'se':>8} {'theory':>8} {'z':>6} {'run s':>8}", file=out)
            for n, a, e, t in zip(th.n_features, th.alpha_half, th.alpha_half_err, finite):
                print(f"   {n:4d} {a:10.4f} {e:8.4f} {t:8.4f} {(a - t) / e:6.1f} {seconds[int(n)]:8.1f}", file=out)
            series = {"n": th.n_features.tolist(), "alpha_half": th.alpha_half.tolist(),
                      "alpha_half_err": th.alpha_half_err.tolist(), "finite_theory": finite.tolist(),
                      "seconds": [seconds[int(n)] for n in th.n_features]}
            if th.n_features.shape[0] >= 3:
                ex = _print_fits(th, forms, "alpha_1", out)
                print(f"      theory {theory:.4f}; diff {ex.limit - theory:+.4f} "
                      f"= {(ex.limit - theory) / ex.total_err:+.1f} total errors", file=out)
                series["extrapolation"] = _fit_summary(ex)
            entry["series"][label] = series
        _compare_full_and_rem(entry["series"], out)
        report[f"{ensemble}-{beta:g}"] = entry
    return report


def _compare_full_and_rem(series, out):
    """Full dynamics against the REM level at the sizes both ran, per criterion."""
    for criterion in ("fixed point", "signal"):
        full, rem = series.get(f"full {criterion}"), series.get(f"REM {criterion}")
        if not full or not rem:
            continue
        common = sorted(set(full["n"]) & set(rem["n"]))
        if not common:
            continue
        print(f"-- {criterion}: full dynamics - REM level (same N)", file=out)
        for n in common:
            i, j = full["n"].index(n), rem["n"].index(n)
            diff = full["alpha_half"][i] - rem["alpha_half"][j]
            err = math.hypot(full["alpha_half_err"][i], rem["alpha_half_err"][j])
            print(f"   N = {n:3d}: {diff:+.4f} ± {err:.4f} ({diff / err:+.1f} s.e.)", file=out)


def analyse_classical(out):
    runs = load("classical").get(("binary", 0.0), [])
    if not runs:
        return {}
    th = _thresholds(runs, "successes", "classical")
    print("\n=== classical Hebbian network (alpha = P/N), retrieval: final overlap >= 0.9", file=out)
    print(f"   {'N':>5} {'alpha_1/2':>10} {'se':>8} {'run s':>8}", file=out)
    seconds = {c["n_features"]: float(c["seconds"]) for c in runs}
    for n, a, e in zip(th.n_features, th.alpha_half, th.alpha_half_err):
        print(f"   {n:5d} {a:10.4f} {e:8.4f} {seconds[int(n)]:8.1f}", file=out)
    result = {"n": th.n_features.tolist(), "alpha_half": th.alpha_half.tolist(),
              "alpha_half_err": th.alpha_half_err.tolist()}
    if th.n_features.shape[0] >= 3:
        ex = _print_fits(th, CLASSICAL_FORMS, "alpha_c", out)
        print(f"      AGS {AGS}", file=out)
        result["extrapolation"] = _fit_summary(ex)
    return result


def infinite_beta(out):
    print("\n=== binary patterns at beta = inf (exact): typical pattern vs all patterns", file=out)
    rows = []
    for n in (16, 24, 32, 48, 64, 80, 160):
        typ, all_ = binary_infinite_beta_thresholds(n)
        rows.append((n, typ, all_))
        print(f"   N = {n:4d}: typical alpha_1/2 = {typ:.4f} (-> ln 2 = {math.log(2):.4f}), "
              f"all patterns = {all_:.4f} (-> ln2/2 = {math.log(2) / 2:.4f}, Demircigil et al.)", file=out)
    return {"n": [r[0] for r in rows], "typical": [r[1] for r in rows], "all": [r[2] for r in rows]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args(argv)
    out = sys.stdout
    report = {"modern": analyse_modern(out), "classical": analyse_classical(out), "infinite_beta": infinite_beta(out)}
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
