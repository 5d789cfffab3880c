"""``statmech demo``: a one-minute look at the shared kernels against theory.

Runs the registered ``rem`` and ``curie-weiss`` experiments at a small size
and prints their numbers next to the closed forms (PHYSICS.md §3–4):

- the sampled random energy model (``N = 2^M`` Gaussian levels of variance
  ``M/2``): mean participation ratio ``E[Y]`` against ``max(0, 1 - beta_c/beta)``
  and the free energy per ``M`` against Derrida's, with standard errors;
- Curie–Weiss ``m = tanh(m/T)``: the critical temperature and the fitted
  exponents ``beta, gamma, delta`` against ``1, 1/2, 1, 3``.
"""

from __future__ import annotations

import time

import numpy as np

from statmech.registry import get_experiment

#: Small enough to finish in well under a minute on two cores.
REM_DEMO = {"M": 18, "samples": 16, "beta_min": 0.5, "beta_max": 4.5, "n_beta": 9}


def _rem_table(result) -> list[str]:
    beta = result.coords["beta"]
    arr = {name: value for name, (_, value) in result.arrays.items()}
    lines = [
        f"Random energy model: N = 2^{result.attrs['M']} levels, variance M/2, "
        f"{arr['participation'].shape[0]} samples; beta_c = 2 sqrt(ln 2) = {result.scalars['beta_c_theory']:.4f}",
        f"{'beta':>6} {'E[Y] sampled':>18} {'1 - beta_c/beta':>16} {'f/M sampled':>20} {'f/M Derrida':>12}",
    ]
    for k in range(beta.shape[0]):
        lines.append(
            f"{beta[k]:6.2f} {arr['mean_participation'][k]:10.4f} ± {arr['sem_participation'][k]:.4f}"
            f" {arr['theory_participation'][k]:16.4f}"
            f" {arr['free_energy'][k]:12.4f} ± {arr['sem_free_energy'][k]:.4f} {arr['theory_free_energy'][k]:12.4f}"
        )
    lines.append(
        f"ground state per M: {result.scalars['ground_state_per_M']:.4f} "
        f"(M -> inf: -sqrt(ln 2) = {result.scalars['ground_state_theory']:.4f}; finite-M corrections ~ log(M)/M)"
    )
    return lines


def _curie_weiss_table(result) -> list[str]:
    s = result.scalars
    lines = [
        "Curie–Weiss m = tanh(m/T): branches followed through the pitchfork, exponents fitted near T_c",
        f"{'quantity':>14} {'measured':>24} {'theory':>8}",
        f"{'T_c':>14} {s['T_c']:24.10f} {s['T_c_theory']:8.3f}",
    ]
    for label, key, err, theory in (
        ("beta", "beta_exponent", "beta_stderr", "beta_theory"),
        ("gamma (T<T_c)", "gamma_minus", "gamma_minus_stderr", "gamma_theory"),
        ("gamma (T>T_c)", "gamma_plus", "gamma_plus_stderr", "gamma_theory"),
        ("delta", "delta_exponent", "delta_stderr", "delta_theory"),
    ):
        lines.append(f"{label:>14} {s[key]:15.4f} ± {s[err]:.4f} {s[theory]:8.3f}")
    return lines


def main(seed: int = 0) -> int:
    """Print the REM and Curie–Weiss results next to theory; return 0."""
    start = time.perf_counter()
    rem = get_experiment("rem").run(REM_DEMO, seed=seed)
    print("\n".join(_rem_table(rem)))
    print()
    cw = get_experiment("curie-weiss").run({}, seed=seed)
    print("\n".join(_curie_weiss_table(cw)))
    print(f"\n(done in {time.perf_counter() - start:.1f} s; seed {seed})")
    return 0


__all__ = ["main", "REM_DEMO"]

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
