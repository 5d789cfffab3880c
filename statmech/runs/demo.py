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


from statmech.runs.registry import get_experiment

#: Small enough to finish in well under a minute on two cores.
REM_DEMO = {"M": 18, "samples": 16, "beta_min": 0.5, "beta_max": 4.5, "n_beta": 9}


def main(seed: int = 0) -> int:
    """Print the REM and Curie–Weiss results next to theory; return 0."""
    start = time.perf_counter()
    for name, params in (("rem", REM_DEMO), ("curie-weiss", {})):
        spec = get_experiment(name)
        print(spec.report(spec.run(params, seed=seed)))
        print()
    print(f"(done in {time.perf_counter() - start:.1f} s; seed {seed})")
    return 0


__all__ = ["main", "REM_DEMO"]

if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
