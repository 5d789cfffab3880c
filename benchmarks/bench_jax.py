"""Peer benchmark (issue 13): the hot paths against JAX written as a competent user would.

Each workload runs through the project's public API and through a JAX
implementation (``jax.jit``, ``lax.scan``/``lax.map``/``lax.while_loop``,
``jax.nn.softmax``/``logsumexp``, float64 through ``jax_enable_x64``) on the
same inputs, timed interleaved in the same run (medians of ``--repeats``):

- W1 ``diffusion.backward_sample``: Euler–Maruyama with the exact empirical
  score, OU, ``init="gaussian"``, log time grid ``0.01 .. 5``, nearest
  training point at every step and ``t^_C``; float64 and float32
  (``--sizes mnist`` adds n = 60000, d = 784, MNIST-shaped synthetic data).
  JAX: ``lax.scan`` over the steps, logits ``(s x.a - s^2|a|^2/2)/Delta``,
  ``argmax``, ``softmax``, one product back, ``jax.random`` noise.
- W2 ``diffusion.collapse.excess_entropy``, 50 times: JAX draws ``(nu, z)``
  once and, per time (``lax.map``), the squared distances of ``x = s a_nu +
  sqrt(Delta) z`` to all data and a ``logsumexp``.
- W3 ``statmech.rem.sampled_rem``, 4 x 2^24 levels x 64 betas: JAX draws the
  levels and takes ``logsumexp(-beta E)`` and ``logsumexp(-2 beta E)`` per
  beta (``lax.map``).
- W4 ``hopfield.modern.retrieve`` (tol 1e-8, at most 30 updates, beta =
  1/16; float64, float32): JAX iterates the whole batch in a
  ``lax.while_loop``, each query frozen once converged (the same criterion).
- Per update: ``retrieve`` with exactly 10 updates (``tol=0``) at beta = 0.02
  (dense weights) and 1/16, against a ``lax.fori_loop`` of 10 updates; and
  ``diffusion.empirical_posterior`` at t = 0.5, 2, 5 against one jitted
  function computing the same outputs (score, denoiser, log density, free
  energies, participation, nearest point).

Agreement is checked in the same run: where the randomness can be shared,
JAX is fed the project's own random numbers (the sampler's initial draw and
noise, the excess-entropy draws, the REM levels of ``rem_levels``) and must
agree to round-off; deterministic outputs (retrieval states, posterior
outputs) are compared directly; the timed JAX runs with their own
``jax.random`` numbers are compared statistically (within standard errors).
Every check prints its deviation, its tolerance and pass/FAIL.

The dense cases (``retrieve`` with fixed updates, ``empirical_posterior``)
also run against plain PyTorch code (``matmul`` + ``softmax`` /
``logsumexp``, MKL's GEMM) when ``torch`` is installed (``--no-torch`` leaves
it out), checked the same way.

The final table gives statmech / peer time ratios against the targets of
issue 13: at most 0.8 with users' BLAS (``OPENBLAS_CORETYPE`` unset), at most
1.0 with the pinned one (``OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512``).
The OpenBLAS kernel threadpoolctl reports is printed first.

Run (``pip install "jax[cpu]"``, part of the ``bench`` extra)::

    python benchmarks/bench_jax.py                 # full sizes, this environment's BLAS
    python benchmarks/bench_jax.py --quick         # small smoke run (seconds per workload)
    python benchmarks/bench_jax.py --both-blas     # twice: environment as it is, and the other
                                                   # OpenBLAS setting; prints both tables
    python benchmarks/bench_jax.py --sizes mnist   # adds W1 at n = 60000, d = 784
    python benchmarks/bench_jax.py --only w1,w4    # some workloads (w1 w2 w3 w4 update posterior)
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys

import numpy as np
import threadpoolctl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _harness import Row, Table, interleaved_medians  # noqa: E402
from bench_hopfield import retrieval_problem  # noqa: E402
from bench_knn import mnist_like  # noqa: E402

try:
    import jax
    import jax.numpy as jnp
    from jax import lax

    jax.config.update("jax_enable_x64", True)
except ImportError:  # reported by main(), the benchmark needs it
    jax = None

from diffusion.collapse import excess_entropy  # noqa: E402
from diffusion.datasets import gaussian_mixture  # noqa: E402
from diffusion.processes import ou_process  # noqa: E402
from diffusion.sampler import backward_sample  # noqa: E402
from diffusion.score import empirical_posterior  # noqa: E402
from hopfield.modern import retrieve  # noqa: E402
from statmech._validation import as_seed_sequence, child_seed  # noqa: E402
from statmech.rem import rem_levels, sampled_rem  # noqa: E402

WORKLOADS = ("w1", "w2", "w3", "w4", "update", "posterior")
BLAS_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
PINNED = {"OPENBLAS_CORETYPE": "Haswell", "OPENBLAS_L2_SIZE": "512"}
TABLE_MARKER = "== statmech vs JAX =="

# (n, d, B, K), (n, d, M, T), (S, N, betas), (P, N, B)
FULL = {"w1": (20000, 256, 256, 200), "mnist": (60000, 784, 256, 200), "w2": (20000, 256, 2000, 50),
        "w3": (4, 2**24, 64), "w4": (20000, 256, 256)}
QUICK = {"w1": (2000, 64, 64, 20), "mnist": (6000, 784, 64, 10), "w2": (2000, 64, 200, 10),
         "w3": (4, 2**18, 64), "w4": (2000, 64, 64)}


# --------------------------------------------------------------------------
# Environment report and result bookkeeping.
# --------------------------------------------------------------------------


def blas_report() -> str:
    """The OpenBLAS kernels threadpoolctl sees and the two environment variables."""
    lines = []
    for info in threadpoolctl.threadpool_info():
        if info.get("user_api") == "blas":
            lines.append(f"BLAS {info.get('internal_api')} {info.get('version')}: architecture "
                         f"{info.get('architecture')}, {info.get('num_threads')} threads "
                         f"({os.path.basename(info.get('filepath', ''))})")
    env = ", ".join(f"{name}={os.environ.get(name, '(unset)')}" for name in BLAS_VARIABLES)
    return "\n".join(lines + [env])


def numpy_blas() -> str:
    """Architecture and threads of the OpenBLAS NumPy loads (the products of both sides)."""
    infos = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
    mine = [i for i in infos if "numpy" in i.get("filepath", "")] or infos
    if not mine:
        return "no BLAS found by threadpoolctl"
    info = mine[0]
    return f"NumPy's {info.get('internal_api')}: {info.get('architecture')}, {info.get('num_threads')} threads"


def pinned_blas() -> bool:
    """True when the environment pins OpenBLAS's kernels (the machine's CI setting)."""
    return bool(os.environ.get("OPENBLAS_CORETYPE"))


class Comparison:
    """Timings, agreement checks and the ratio table of one run."""

    def __init__(self, table: Table):
        self.table = table
        self.target = 1.0 if pinned_blas() else 0.8
        self.setting = "pinned BLAS" if pinned_blas() else "users' BLAS"
        self.results = []  # (workload, statmech s, JAX s)
        self.checks = []  # (name, deviation, tolerance, passed)

    def timing(self, workload, ours, peer, peer_name="JAX"):
        ratio = ours / peer
        met = "met" if ratio <= self.target else f"MISSED by {ratio / self.target:.2f}x"
        self.results.append((workload, ours, peer_name, peer, met))
        self.table.add(Row(f"{peer_name} peer", workload, ours, peer_name, peer,
                           target=f"ours <= {self.target:.1f}x {peer_name} ({self.setting})", met=met))

    def check(self, name, deviation, tolerance):
        passed = bool(deviation <= tolerance)
        self.checks.append((name, deviation, tolerance, passed))
        print(f"  check {name:<58} max dev {deviation:10.3e}  tol {tolerance:9.2e}  "
              f"{'pass' if passed else 'FAIL'}", flush=True)

    def print(self):
        print()
        print(f"{TABLE_MARKER} ({self.setting}; {numpy_blas()}; "
              + ", ".join(f"{name}={os.environ.get(name, '(unset)')}" for name in BLAS_VARIABLES) + ")")
        print(f"{'workload':<52} {'statmech s':>10} {'peer':>7} {'peer s':>9} {'statmech/peer':>14} "
              f"{'target':>7}  met")
        for workload, ours, peer_name, peer, met in self.results:
            print(f"{workload:<52} {ours:10.4f} {peer_name:>7} {peer:9.4f} {ours / peer:14.2f} "
                  f"{self.target:6.1f}x  {met}")
        failed = [c[0] for c in self.checks if not c[3]]
        print(f"agreement checks: {len(self.checks) - len(failed)}/{len(self.checks)} passed"
              + (f"; FAILED: {', '.join(failed)}" if failed else ""))


def _ready(out):
    return jax.block_until_ready(out)


def _torch():
    """PyTorch if installed (the dense-case peer, issue 13 item 3), else None."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def _max_dev(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64)))) if np.size(a) else 0.0


def _eps(dtype):
    return float(np.finfo(dtype).eps)


def _bits(dtype):
    return np.dtype(dtype).name


# --------------------------------------------------------------------------
# W1: backward sampler with the exact empirical score.
# --------------------------------------------------------------------------


def _w1_peer(data, process, times, dtype):
    """Jitted JAX samplers: ``own(key)`` draws its noise, ``shared(x0, noise)`` takes it.

    Euler–Maruyama ``x <- x + h (k x + g^2 (s <a>_x - x)/Delta) + g sqrt(h) xi``
    at the left grid point, as :func:`diffusion.sampler.backward_sample`;
    the nearest training point (``argmax`` of the logits) at every grid time,
    ``t^_C`` the last time it changed. Returns ``(x, nearest, t_hat)``.
    """
    A = jnp.asarray(data, dtype)
    sqnorm = jnp.einsum("ij,ij->i", A, A)
    k_rate, g2 = process.drift_rate, process.noise_variance
    s, delta = np.asarray(process.s(times)), np.asarray(process.delta(times))
    h = times[:-1] - times[1:]
    coefs = jnp.asarray(np.stack([s[:-1], delta[:-1], h, np.sqrt(g2 * h)], axis=1), dtype)
    t_left = jnp.asarray(times[:-1])
    last = (float(times[-1]), float(s[-1]), float(delta[-1]))
    n_steps = times.shape[0] - 1

    def logits(x, s_t, delta_t):
        return (s_t * (x @ A.T) - (0.5 * s_t * s_t) * sqnorm) / delta_t

    def track(prev, t_hat, x, t, s_t, delta_t):
        near = jnp.argmax(logits(x, s_t, delta_t), axis=1)
        t_hat = jnp.where((prev >= 0) & (near != prev), t, t_hat)
        return near, t_hat

    def stepper(noise_of):
        def step(carry, inputs):
            x, prev, t_hat = carry
            t, c, noise = inputs
            s_t, delta_t, h_t, amp = c[0], c[1], c[2], c[3]
            lg = logits(x, s_t, delta_t)
            near = jnp.argmax(lg, axis=1)
            t_hat = jnp.where((prev >= 0) & (near != prev), t, t_hat)
            mean = jax.nn.softmax(lg, axis=1) @ A
            score = (s_t * mean - x) / delta_t
            x = x + h_t * (k_rate * x + g2 * score) + amp * noise_of(noise, x)
            return (x, near, t_hat), None

        return step

    def finish(x, prev, t_hat):
        near, t_hat = track(prev, t_hat, x, last[0], last[1], last[2])
        return x, near, t_hat

    def start(x0):
        return (x0, jnp.full(x0.shape[0], -1, jnp.int64), jnp.full(x0.shape[0], float(times[0])))

    @jax.jit
    def shared(x0, noise):
        step = stepper(lambda xi, x: xi)
        (x, prev, t_hat), _ = lax.scan(step, start(x0), (t_left, coefs, noise))
        return finish(x, prev, t_hat)

    def own(key, n_traj):
        @jax.jit
        def sample(key):
            keys = jax.random.split(key, n_steps + 1)
            x0 = math.sqrt(float(delta[0])) * jax.random.normal(keys[0], (n_traj, A.shape[1]), dtype)
            step = stepper(lambda k, x: jax.random.normal(k, x.shape, dtype))
            (x, prev, t_hat), _ = lax.scan(step, start(x0), (t_left, coefs, keys[1:]))
            return finish(x, prev, t_hat)

        return lambda: _ready(sample(key))

    return shared, own


def _sampler_draws(n, d, n_traj, n_steps, delta0, seed, dtype):
    """The sampler's own random numbers (one group of ``n_traj``, ``init="gaussian"``).

    Group 0's stream draws ``nu``, ``z`` for the start (``sqrt(Delta) z``),
    then one ``(B, d)`` block of normals in ``dtype`` per step
    (:mod:`diffusion.sampler`, module docstring).
    """
    rng = np.random.default_rng(child_seed(as_seed_sequence(seed), 0))
    rng.integers(0, n, size=n_traj)
    x0 = (math.sqrt(delta0) * rng.standard_normal((n_traj, d))).astype(dtype)
    noise = rng.standard_normal((n_steps, n_traj, d), dtype=dtype)
    return x0, noise


def run_w1(cmp, data, label, n_traj, n_steps, repeats):
    process = ou_process()
    times = process.time_grid(0.01, 5.0, n_steps, spacing="log")
    n, d = data.shape
    seed = 3
    for dtype in (np.float64, np.float32):
        array = data.astype(dtype)
        shared, own = _w1_peer(array, process, times, dtype)

        def ours():
            return backward_sample(array, process, times, n_trajectories=n_traj, group_size=n_traj,
                                   seed=seed, dtype=dtype, init="gaussian", n_boot=0)

        res = ours()
        # Shared noise: the same numbers in, the same trajectories out (to round-off).
        x0, noise = _sampler_draws(n, d, n_traj, n_steps, float(process.delta(times[0])), seed, dtype)
        x, near, t_hat = (np.asarray(v) for v in shared(jnp.asarray(x0), jnp.asarray(noise)))
        scale = float(np.abs(res.x).max())
        name = f"W1 {label} {_bits(dtype)}"
        # Tolerance: round-off of one step (tens of eps of |x|: two products and
        # a softmax) added over K steps; the backward dynamics contracts toward
        # the data, so errors add rather than grow: 100 K eps |x|.
        cmp.check(f"{name} shared noise: end points |dx|/max|x|", _max_dev(x, res.x) / scale,
                  100 * n_steps * _eps(dtype))
        # float32: a trajectory between two points within round-off of each other may flip.
        cmp.check(f"{name} shared noise: nearest point differs (fraction)",
                  float(np.mean(near != res.nearest)), 0.0 if dtype == np.float64 else 2.0 / n_traj)
        cmp.check(f"{name} shared noise: t_C differs (fraction)",
                  float(np.mean(np.abs(t_hat - res.t_collapse) > 1e-6 * times[0])),
                  0.0 if dtype == np.float64 else 2.0 / n_traj)
        timed_peer = own(jax.random.PRNGKey(seed), n_traj)
        med = interleaved_medians({"ours": ours, "jax": timed_peer}, repeats=repeats, warmup=1)
        # Own noise: the mean squared norm of the end points agrees within standard errors.
        px = np.asarray(timed_peer()[0], np.float64)
        a, b = (np.einsum("ij,ij->i", v, v) / d for v in (res.x.astype(np.float64), px))
        se = math.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
        cmp.check(f"{name} own noise: mean |x|^2/d (4 standard errors)", abs(a.mean() - b.mean()),
                  4.0 * se)
        cmp.timing(f"W1 sampler {label} {_bits(dtype)}", med["ours"], med["jax"])


# --------------------------------------------------------------------------
# W2: excess entropy.
# --------------------------------------------------------------------------


def _w2_peer(data, process, times):
    """Jitted ``v`` per sample and time: ``logsumexp_mu l_mu + |z|^2/2`` (``f^e = E[v]/d``)."""
    A = jnp.asarray(data)
    sqnorm = jnp.einsum("ij,ij->i", A, A)
    coefs = jnp.asarray(np.stack([process.s(times), process.delta(times)], axis=1))

    @jax.jit
    def values(nu, z):
        own = A[nu]
        zsq = jnp.einsum("ij,ij->i", z, z)

        def at_time(c):
            s_t, delta_t = c[0], c[1]
            x = s_t * own + jnp.sqrt(delta_t) * z
            dist2 = (jnp.einsum("ij,ij->i", x, x)[:, None] - 2.0 * s_t * (x @ A.T)
                     + (s_t * s_t) * sqnorm[None, :])
            return jax.nn.logsumexp(-dist2 / (2.0 * delta_t), axis=1) + 0.5 * zsq

        return lax.map(at_time, coefs).T  # (M, T)

    def own(key, n_samples):
        @jax.jit
        def curve(key):
            k_nu, k_z = jax.random.split(key)
            nu = jax.random.randint(k_nu, (n_samples,), 0, A.shape[0])
            z = jax.random.normal(k_z, (n_samples, A.shape[1]))
            per = values(nu, z) / A.shape[1]
            return per.mean(axis=0), per.std(axis=0, ddof=1) / math.sqrt(n_samples)

        return lambda: _ready(curve(key))

    return values, own


def run_w2(cmp, n, d, n_samples, n_times, repeats):
    process = ou_process()
    data = gaussian_mixture(n, d, seed=1).data
    times = np.linspace(0.05, 5.0, n_times)
    seed = 4
    values, own = _w2_peer(data, process, times)

    def ours():
        return excess_entropy(data, times, process, n_samples=n_samples, seed=seed)

    res = ours()
    # The same draws as excess_entropy: nu, then z, from one stream.
    rng = np.random.default_rng(as_seed_sequence(seed))
    nu = rng.integers(0, n, size=n_samples)
    z = rng.standard_normal((n_samples, d))
    per = np.asarray(values(jnp.asarray(nu), jnp.asarray(z))) / d
    # Round-off of the expanded squared distance: a few eps of |x|^2 + s^2|a|^2, over 2 Delta, per d.
    s, delta = process.s(times), process.delta(times)
    size = s ** 2 * 4.0 * (data ** 2).sum(1).max() + delta * 4.0 * d
    roundoff = 16 * _eps(np.float64) * size / (2.0 * delta) / d  # per time
    cmp.check(f"W2 n={n} d={d} shared draws: per-sample f^e", _max_dev(per, res.per_sample),
              float(roundoff.max()))
    timed_peer = own(jax.random.PRNGKey(seed), n_samples)
    med = interleaved_medians({"ours": ours, "jax": timed_peer}, repeats=repeats, warmup=1)
    f, f_se = (np.asarray(v) for v in timed_peer())
    # Independent draws: the two means differ by sampling noise (standard errors) plus
    # each side's round-off. At the earliest times every sample's value is 0 up to
    # round-off (the own point carries all the weight), so f and its standard error
    # are themselves round-off and a bare z-score would compare noise with noise.
    excess = np.maximum(np.abs(f - res.f) - 2.0 * roundoff, 0.0)
    z_scores = excess / np.sqrt(f_se ** 2 + res.f_se ** 2)
    cmp.check(f"W2 own draws: max over {n_times} times of (|df| - round-off)/se (4 se)",
              float(z_scores.max()), 4.0)
    cmp.timing(f"W2 excess entropy n={n} d={d} M={n_samples} T={n_times}", med["ours"], med["jax"])


# --------------------------------------------------------------------------
# W3: sampled REM.
# --------------------------------------------------------------------------


def _w3_peer(betas):
    """Jitted ``log Z(beta)``, ``log Z(2 beta)``, ``Y`` and ``min E`` of levels ``E`` (S, N)."""
    betas = jnp.asarray(betas)

    @jax.jit
    def reduce(energies):
        def at_beta(beta):
            return (jax.nn.logsumexp(-beta * energies, axis=1),
                    jax.nn.logsumexp(-2.0 * beta * energies, axis=1))

        log_z, log_z2 = lax.map(at_beta, betas)
        return log_z.T, log_z2.T, jnp.exp(log_z2 - 2.0 * log_z).T, energies.min(axis=1)

    def own(key, n_samples, n_levels, variance):
        @jax.jit
        def sample(key):
            return reduce(math.sqrt(variance) * jax.random.normal(key, (n_samples, n_levels)))

        return lambda: _ready(sample(key))

    return reduce, own


def run_w3(cmp, n_samples, n_levels, n_betas, repeats):
    betas = np.linspace(0.05, 4.0, n_betas)
    variance = math.log2(n_levels) / 2.0
    seed = 5
    reduce, own = _w3_peer(betas)

    def ours():
        return sampled_rem(n_levels, betas, n_samples=n_samples, seed=seed)

    res = ours()
    # Sample 0's levels exactly (rem_levels: the same streams as sampled_rem).
    levels = rem_levels(n_levels, n_samples=1, seed=seed)
    log_z, log_z2, part, e_min = (np.asarray(v) for v in reduce(jnp.asarray(levels)))
    del levels
    # log Z round-off: summation (log2 N eps), the exp (3e-14 relative) and the
    # project's beta recurrence (one rounding per grid point): well below 1e-11.
    cmp.check(f"W3 N={n_levels} shared levels: log Z(beta), sample 0", _max_dev(log_z, res.log_z[:1]),
              1e-11 * max(1.0, float(np.abs(res.log_z[0]).max())))
    cmp.check(f"W3 N={n_levels} shared levels: participation Y (relative)",
              float(np.max(np.abs(part / res.participation[:1] - 1.0))), 1e-10)
    cmp.check(f"W3 N={n_levels} shared levels: min E", _max_dev(e_min, res.min_energy[:1]), 0.0)
    timed_peer = own(jax.random.PRNGKey(seed), n_samples, n_levels, variance)
    med = interleaved_medians({"ours": ours, "jax": timed_peer}, repeats=repeats, warmup=1)
    # Own levels: the free energy per level log Z / N agrees within the sample spread.
    peer = np.asarray(timed_peer()[0])
    se = np.sqrt(peer.var(axis=0, ddof=1) / n_samples + res.log_z.var(axis=0, ddof=1) / n_samples)
    z_scores = np.abs(peer.mean(axis=0) - res.log_z.mean(axis=0)) / np.maximum(se, 1e-300)
    cmp.check("W3 own levels: median over betas of |d log Z|/se", float(np.median(z_scores)), 3.0)
    cmp.timing(f"W3 sampled REM {n_samples}x2^{int(math.log2(n_levels))} x {n_betas} betas",
               med["ours"], med["jax"])


# --------------------------------------------------------------------------
# W4 and per update: modern-Hopfield retrieval.
# --------------------------------------------------------------------------


def _hopfield_peer(patterns, beta):
    """Jitted JAX retrieval: to convergence (per-query freeze) or a fixed number of updates."""
    Xi = jnp.asarray(patterns)
    dtype = patterns.dtype
    rel = 4.0 * _eps(np.float32) if dtype == np.float32 else 0.0

    def update(x):
        return jax.nn.softmax(beta * (x @ Xi.T), axis=1) @ Xi

    @jax.jit
    def until_converged(x0, tol, max_iter):
        def cond(state):
            return (state[3] < max_iter) & jnp.any(state[1])

        def body(state):
            x, active, iters, it = state
            new = update(x)
            change = jnp.max(jnp.abs(new - x), axis=1).astype(jnp.float64)
            limit = tol + rel * jnp.max(jnp.abs(new), axis=1).astype(jnp.float64)
            x = jnp.where(active[:, None], new, x)
            iters = jnp.where(active, it + 1, iters)
            return x, active & (change > limit), iters, it + 1

        state = (x0, jnp.ones(x0.shape[0], bool), jnp.zeros(x0.shape[0], jnp.int64), 0)
        x, _, iters, _ = lax.while_loop(cond, body, state)
        return x, iters

    @jax.jit
    def fixed(x0, n_updates):
        return lax.fori_loop(0, n_updates, lambda i, x: update(x), x0)

    return until_converged, fixed


def _hopfield_torch_peer(torch, patterns, beta):
    """PyTorch retrieval with a fixed number of updates: ``softmax(beta x Xi^T) Xi`` (matmul + softmax)."""
    Xi = torch.from_numpy(patterns)

    def fixed(cues, n_updates):
        with torch.inference_mode():
            x = torch.from_numpy(cues)
            for _ in range(n_updates):
                x = torch.softmax(beta * (x @ Xi.T), dim=1) @ Xi
            return x.numpy()

    return fixed


def run_w4(cmp, P, N, B, repeats, tol=1e-8, max_iter=30, beta=1.0 / 16.0):
    for dtype in (np.float64, np.float32):
        xi, cues = retrieval_problem(dtype, P, N, B)
        until_converged, _ = _hopfield_peer(xi, beta)
        x0 = jnp.asarray(cues)

        def ours():
            return retrieve(xi, cues, beta, tol=tol, max_iter=max_iter)

        def peer():
            return _ready(until_converged(x0, tol, max_iter))

        res = ours()
        x, iters = (np.asarray(v) for v in peer())
        name = f"W4 P={P} N={N} {_bits(dtype)}"
        # Converged rows differ by at most the stopping tolerance (plus round-off).
        cmp.check(f"{name}: states", _max_dev(x, res.states),
                  2.0 * tol + 64 * _eps(dtype) * float(np.abs(res.states).max()))
        if dtype == np.float64:
            cmp.check(f"{name}: max |iterations difference|", _max_dev(iters, res.iterations), 0.0)
        else:
            # In float32 the stopping test compares a change that has shrunk to
            # round-off with a limit of round-off size (4 eps |x|), and each side's
            # change carries its own GEMM's rounding: where a row converges slowly
            # (contraction rate near 1) the update at which it stops is not fixed by
            # the mathematics, only by the rounding. The states check above bounds
            # what that can change; the counts are printed, not tested.
            differ = np.asarray(iters) != np.asarray(res.iterations)
            print(f"  info  {name}: iteration counts differ in {int(differ.sum())} of {differ.size} "
                  f"rows (max {_max_dev(iters, res.iterations):.0f}; float32 stopping at round-off)")
        med = interleaved_medians({"ours": ours, "jax": peer}, repeats=repeats, warmup=1)
        cmp.timing(f"W4 retrieve P={P} N={N} B={B} {_bits(dtype)}", med["ours"], med["jax"])


def run_updates(cmp, P, N, B, repeats, n_updates=10, torch=None):
    for beta, label in ((0.02, "0.02"), (1.0 / 16.0, "1/16")):
        for dtype in (np.float64, np.float32):
            xi, cues = retrieval_problem(dtype, P, N, B)
            _, fixed = _hopfield_peer(xi, beta)
            x0 = jnp.asarray(cues)

            def ours():
                return retrieve(xi, cues, beta, tol=0.0, max_iter=n_updates)

            def peer():
                return _ready(fixed(x0, n_updates))

            peers = {"jax": peer}
            if torch is not None:
                torch_fixed = _hopfield_torch_peer(torch, xi, beta)
                peers["torch"] = lambda: torch_fixed(cues, n_updates)
            res = ours()
            # tol=0 stops a row early only at an exact fixed point, where the
            # remaining updates change nothing: the same states either way.
            name = f"retrieve {n_updates} updates beta={label} {_bits(dtype)}"
            for peer_name, call in peers.items():
                cmp.check(f"{name} ({peer_name}): states |dx|/max|x|",
                          _max_dev(np.asarray(call()), res.states) / float(np.abs(res.states).max()),
                          64 * n_updates * _eps(dtype))
            med = interleaved_medians({"ours": ours, **peers}, repeats=repeats, warmup=1)
            cmp.timing(f"{name}", med["ours"], med["jax"])
            if torch is not None:
                cmp.timing(f"{name}", med["ours"], med["torch"], "PyTorch")


# --------------------------------------------------------------------------
# Per call: the empirical posterior.
# --------------------------------------------------------------------------


def _posterior_peer(data):
    """Jitted posterior outputs of :func:`diffusion.empirical_posterior` at ``(s, Delta)``."""
    A = jnp.asarray(data)
    n, d = data.shape
    sqnorm = jnp.einsum("ij,ij->i", A, A)

    @jax.jit
    def posterior(x, s_t, delta_t):
        logits = (s_t * (x @ A.T) - (0.5 * s_t * s_t) * sqnorm) / delta_t
        log_z = jax.nn.logsumexp(logits, axis=1)
        w = jnp.exp(logits - log_z[:, None])
        denoiser = w @ A
        xsq = jnp.einsum("ij,ij->i", x, x)
        log_zn = log_z - math.log(n)
        free = -delta_t * log_zn
        return dict(score=(s_t * denoiser - x) / delta_t, denoiser=denoiser,
                    log_density=log_zn - xsq / (2.0 * delta_t)
                    - 0.5 * d * jnp.log(2.0 * jnp.pi * delta_t),
                    free_energy=free, free_energy_reg=free + 0.5 * xsq,
                    participation=jnp.sum(w * w, axis=1), nearest=jnp.argmax(logits, axis=1))

    return posterior


def _posterior_torch_peer(torch, data):
    """PyTorch posterior outputs at ``(s, Delta)``: the same formulas as :func:`_posterior_peer`."""
    A = torch.from_numpy(data)
    n, d = data.shape
    sqnorm = (A * A).sum(dim=1)

    def posterior(x, s_t, delta_t):
        with torch.inference_mode():
            x = torch.from_numpy(x)
            logits = (s_t * (x @ A.T) - (0.5 * s_t * s_t) * sqnorm) / delta_t
            log_z = torch.logsumexp(logits, dim=1)
            w = torch.exp(logits - log_z[:, None])
            denoiser = w @ A
            xsq = (x * x).sum(dim=1)
            log_zn = log_z - math.log(n)
            free = -delta_t * log_zn
            out = dict(score=(s_t * denoiser - x) / delta_t, denoiser=denoiser,
                       log_density=log_zn - xsq / (2.0 * delta_t) - 0.5 * d * math.log(2.0 * math.pi * delta_t),
                       free_energy=free, free_energy_reg=free + 0.5 * xsq,
                       participation=(w * w).sum(dim=1), nearest=torch.argmax(logits, dim=1))
            return {key: value.numpy() for key, value in out.items()}

    return posterior


def run_posterior(cmp, n, d, B, repeats, torch=None):
    process = ou_process()
    data = gaussian_mixture(n, d, seed=1).data
    posterior = _posterior_peer(data)
    torch_posterior = _posterior_torch_peer(torch, data) if torch is not None else None
    rng = np.random.default_rng(6)
    nu, z = rng.integers(0, n, B), rng.standard_normal((B, d))
    for t in (0.5, 2.0, 5.0):
        s_t, delta_t = float(process.s(t)), float(process.delta(t))
        x = s_t * data[nu] + math.sqrt(delta_t) * z  # noised training points at t
        xj = jnp.asarray(x)

        def ours():
            return empirical_posterior(data, x, t, process)

        def peer():
            return _ready(posterior(xj, s_t, delta_t))

        peers = {"jax": peer}
        if torch is not None:
            peers["torch"] = lambda: torch_posterior(x, s_t, delta_t)
        res = ours()
        name = f"empirical_posterior t={t:g}"
        for peer_name, call in peers.items():
            out = {key: np.asarray(v) for key, v in call().items()}
            for key in ("score", "denoiser", "log_density", "free_energy", "free_energy_reg",
                        "participation"):
                ref = getattr(res, key)
                # Round-off of the logits (a few eps of |x|^2 + s^2 |a|^2, over Delta) carried to each output.
                scale = float(np.abs(ref).max()) * (1.0 + float((x ** 2).sum(1).max()) / delta_t)
                cmp.check(f"{name} ({peer_name}): {key}", _max_dev(out[key], ref),
                          64 * _eps(np.float64) * scale)
            cmp.check(f"{name} ({peer_name}): nearest differs (count)",
                      float(np.sum(out["nearest"] != res.nearest)), 0.0)
        med = interleaved_medians({"ours": ours, **peers}, repeats=repeats, warmup=1)
        cmp.timing(f"{name} n={n} d={d} B={B}", med["ours"], med["jax"])
        if torch is not None:
            cmp.timing(f"{name} n={n} d={d} B={B}", med["ours"], med["torch"], "PyTorch")


# --------------------------------------------------------------------------
# Driver.
# --------------------------------------------------------------------------


def run(table: Table, *, quick: bool = False, repeats: int = 3, sizes: str = "default",
        only=WORKLOADS, torch_peer: bool = True) -> Comparison:
    """Time statmech against its JAX peers, check their agreement, add rows to ``table``.

    Parameters
    ----------
    table : Table
    quick : bool
        Small sizes (:data:`QUICK`): a smoke run of a few seconds per workload.
    repeats : int
        Timed calls per implementation (medians).
    sizes : {"default", "mnist"}
        ``"mnist"`` adds W1 at n = 60000, d = 784 (MNIST-shaped synthetic data).
    only : sequence of str
        Workloads among :data:`WORKLOADS`.

    Returns
    -------
    Comparison
        Its ``results`` (workload, statmech s, JAX s, met) and ``checks``.
    """
    if jax is None:
        raise ImportError("bench_jax needs JAX: pip install 'jax[cpu]' (the bench extra)")
    cfg = QUICK if quick else FULL
    cmp = Comparison(table)
    torch = _torch() if torch_peer else None
    if "w1" in only:
        n, d, B, K = cfg["w1"]
        run_w1(cmp, gaussian_mixture(n, d, seed=1).data, f"n={n} d={d} B={B} K={K}", B, K, repeats)
        if sizes == "mnist":
            n, d, B, K = cfg["mnist"]
            train, _ = mnist_like(n, 0, d=d, seed=0)
            run_w1(cmp, train.astype(np.float64), f"MNIST-shaped n={n} d={d} B={B} K={K}", B, K,
                   repeats)
    if "w2" in only:
        run_w2(cmp, *cfg["w2"], repeats)
    if "w3" in only:
        run_w3(cmp, *cfg["w3"], repeats)
    if "w4" in only:
        run_w4(cmp, *cfg["w4"], repeats)
    if "update" in only:
        run_updates(cmp, *cfg["w4"], repeats, torch=torch)
    if "posterior" in only:
        n, d, B = cfg["w4"]
        run_posterior(cmp, n, d, B, repeats, torch=torch)
    return cmp


def _other_blas_env():
    """The environment of the second run of ``--both-blas``: the other OpenBLAS setting."""
    env = dict(os.environ)
    if any(env.get(name) for name in BLAS_VARIABLES):
        for name in BLAS_VARIABLES:
            env.pop(name, None)
        return env, "both variables unset (users' BLAS)"
    env.update(PINNED)
    return env, "OPENBLAS_CORETYPE=Haswell OPENBLAS_L2_SIZE=512 (pinned BLAS)"


def both_blas(argv) -> int:
    """Run this script twice as subprocesses (environment as it is, then the other setting)."""
    here = "environment as it is (" + ", ".join(
        f"{name}={os.environ.get(name, '(unset)')}" for name in BLAS_VARIABLES) + ")"
    other, other_label = _other_blas_env()
    tables, status = [], 0
    for env, label in ((dict(os.environ), here), (other, other_label)):
        print(f"\n######## run with {label}", flush=True)
        proc = subprocess.Popen([sys.executable, os.path.abspath(__file__), *argv], env=env,
                                stdout=subprocess.PIPE, text=True)
        lines = []
        for line in proc.stdout:
            print(line, end="", flush=True)
            lines.append(line)
        status = max(status, proc.wait())
        start = next((i for i, line in enumerate(lines) if line.startswith(TABLE_MARKER)), None)
        tables.append((label, "".join(lines[start:]) if start is not None else "(no table)\n"))
    print("\n######## both BLAS settings")
    for label, text in tables:
        print(f"\n-- {label}\n{text}", end="")
    return status


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (smoke run)")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls each (median)")
    parser.add_argument("--sizes", choices=("default", "mnist"), default="default",
                        help="mnist: add W1 at n=60000, d=784 (MNIST-shaped synthetic data)")
    parser.add_argument("--only", default=",".join(WORKLOADS),
                        help=f"comma-separated workloads among {','.join(WORKLOADS)}")
    parser.add_argument("--no-torch", action="store_true",
                        help="leave out the PyTorch peer of the dense cases (used when installed)")
    parser.add_argument("--both-blas", action="store_true",
                        help="run twice: environment as it is, and the other OpenBLAS setting")
    args = parser.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    only = tuple(part.strip() for part in args.only.split(",") if part.strip())
    unknown = [part for part in only if part not in WORKLOADS]
    if unknown:
        parser.error(f"--only: unknown workload(s) {unknown}, expected some of {WORKLOADS}")
    if args.both_blas:
        return both_blas([arg for arg in argv if arg != "--both-blas"])
    if jax is None:
        print("JAX is not installed: pip install 'jax[cpu]' (the bench extra)", file=sys.stderr)
        return 2
    print(blas_report())
    print(f"jax {jax.__version__} ({jax.devices()[0].platform}), numpy {np.__version__}, "
          f"{os.cpu_count()} cpus", flush=True)
    table = Table()
    cmp = run(table, quick=args.quick, repeats=args.repeats, sizes=args.sizes, only=only,
              torch_peer=not args.no_torch)
    table.print()
    cmp.print()
    return 0 if all(check[3] for check in cmp.checks) else 1


if __name__ == "__main__":
    sys.exit(main())
