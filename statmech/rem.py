"""Random energy model (REM): the streaming engine for sampled and quenched partition functions.

Conventions (PHYSICS.md §4; Ambrogioni 2023 §8; Derrida 1981):

- ``log_z`` is the log of the *unnormalised* sum ``Z(beta) = sum_j exp(-beta E_j)``.
  The ``1/N``-normalised ``Z_N`` of Ambrogioni eq. 34 differs by ``-log N``;
  results expose it as ``log_z_normalised``.
- The participation ratio is ``Y(beta) = sum_j p_j^2 = Z(2 beta) / Z(beta)^2``
  with the unnormalised ``Z`` (PHYSICS.md §4), so ``1/N <= Y <= 1``.
- Standard REM: ``N = 2^M`` levels, ``E_j ~ N(0, M/2)``, ``beta_c = 2 sqrt(ln 2)``.
  Sizes are measured by ``M = log2 N`` (also when ``N`` is not a power of two).

How the sums are computed. Levels are handled in fixed blocks of
:data:`BLOCK_SIZE`. Inside a block every energy is shifted by the block minimum
``E_min``, so each term ``exp(-beta (E_j - E_min))`` lies in ``(0, 1]`` and the
block sums lie in ``[1, block size]``: nothing overflows. On a uniform beta grid
``beta_k = beta_0 + k dbeta`` a term is advanced from one temperature to the
next by one multiplication, ``x_{k+1} = x_k r`` with ``r = exp(-dbeta (E_j -
E_min))``, restarted from a direct ``exp`` every :data:`RESTART` temperatures so
that round-off stays at a few tens of ulp; ``Z(2 beta_k)`` comes free as the sum
of squares ``x_k^2``. Terms below ``2^-500`` of the block maximum are dropped
(their total is below ``N 2^-500`` relative, far below round-off), which keeps
subnormal numbers, and their slow arithmetic, out of the loops. Any other grid
(log-spaced, unsorted) takes a direct ``exp`` per level and temperature.
Block results ``(E_min, sum x, sum x^2)`` are merged in block order, so the
result does not depend on how blocks were scheduled over threads.

Parallelism: whole blocks are spread over Python worker threads. Both stages
release the GIL (NumPy's generator filling an ``out=`` buffer, then the
``nogil`` reduction kernel), so one thread can draw normals while another
reduces; a ``prange`` kernel could not use NumPy's generators, and Numba's own
``np.random`` cannot be seeded per block (STYLE.md, Randomness). The random
stream of block ``b`` of sample ``s`` is ``SeedSequence(entropy, spawn_key=key
+ (s, b))``: a function of the seed alone.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numba
import numpy as np

from statmech._fastexp import exp_nonpositive
from statmech._numba import kernel
from statmech._validation import (
    as_beta,
    as_float,
    as_float_array,
    as_int,
    as_seed_sequence,
    child_seed,
)

# The theory these sums are compared with lives in statmech.rem_theory; its
# names stay importable from here.
from statmech.rem_theory import (
    GeneralREM,
    ParticipationMoments,
    rem_critical_beta,
    rem_free_energy,
    rem_log_partition,
    rem_mean_participation,
    rem_participation_moments,
)

#: Levels per block: one block is one random stream and one unit of work.
BLOCK_SIZE = 1 << 16
#: Levels per tile inside a block (the tile's work arrays stay in L1).
_TILE = 512
#: Temperatures between two direct ``exp`` evaluations on a uniform grid.
RESTART = 32
#: Terms smaller than this (relative to the block maximum, 1) are dropped.
_TINY = 2.0**-500
#: Relative tolerance, in ulp of max(beta), for a grid to count as uniform.
_UNIFORM_ULPS = 8
_EPS = np.finfo(np.float64).eps
_FLOAT_MAX = np.finfo(np.float64).max


# ---------------------------------------------------------------------------
# Kernels
# ---------------------------------------------------------------------------


@kernel
def _flush(x):
    """``x`` if ``x >= 2^-500`` else 0 (branch-free select, keeps subnormals out)."""
    return x if x >= _TINY else 0.0


@kernel
def _reduce_block(levels, betas, dbeta, restart, s1, s2, dbuf, xbuf, rbuf):
    """Reduce one block of energy levels ``E_j = levels[j]``.

    Fills ``s1[k] = sum_j exp(-beta_k (E_j - E_min))`` and
    ``s2[k] = sum_j exp(-2 beta_k (E_j - E_min))`` and returns ``E_min``.
    ``restart > 0`` selects the uniform-grid recurrence (``beta_k = beta_0 +
    k dbeta``, a direct exp every ``restart`` temperatures); ``restart == 0``
    evaluates every term directly. ``dbuf``, ``xbuf``, ``rbuf`` are work arrays
    of at least ``_TILE`` elements.
    """
    n = levels.shape[0]
    n_betas = betas.shape[0]
    e_min = np.inf
    for j in range(n):
        e_min = min(e_min, levels[j])
    for k in range(n_betas):
        s1[k] = 0.0
        s2[k] = 0.0
    for start in range(0, n, _TILE):
        m = min(_TILE, n - start)
        for j in range(m):
            dbuf[j] = levels[start + j] - e_min
        if restart == 0:
            for k in range(n_betas):
                beta = betas[k]
                a = 0.0
                b = 0.0
                for j in range(m):
                    x = _flush(exp_nonpositive(-beta * dbuf[j]))
                    a += x
                    b += x * x
                s1[k] += a
                s2[k] += b
            continue
        for j in range(m):
            rbuf[j] = _flush(exp_nonpositive(-dbeta * dbuf[j]))
        for k0 in range(0, n_betas, restart):
            beta = betas[k0]
            a = 0.0
            b = 0.0
            for j in range(m):
                x = _flush(exp_nonpositive(-beta * dbuf[j]))
                xbuf[j] = x
                a += x
                b += x * x
            s1[k0] += a
            s2[k0] += b
            k = k0 + 1
            k_end = min(k0 + restart, n_betas)
            while k + 4 <= k_end:
                a0 = 0.0
                a1 = 0.0
                a2 = 0.0
                a3 = 0.0
                b0 = 0.0
                b1 = 0.0
                b2 = 0.0
                b3 = 0.0
                for j in range(m):
                    r = rbuf[j]
                    x = _flush(xbuf[j] * r)
                    a0 += x
                    b0 += x * x
                    x = _flush(x * r)
                    a1 += x
                    b1 += x * x
                    x = _flush(x * r)
                    a2 += x
                    b2 += x * x
                    x = _flush(x * r)
                    a3 += x
                    b3 += x * x
                    xbuf[j] = x
                s1[k] += a0
                s1[k + 1] += a1
                s1[k + 2] += a2
                s1[k + 3] += a3
                s2[k] += b0
                s2[k + 1] += b1
                s2[k + 2] += b2
                s2[k + 3] += b3
                k += 4
            while k < k_end:
                a = 0.0
                b = 0.0
                for j in range(m):
                    x = _flush(xbuf[j] * rbuf[j])
                    xbuf[j] = x
                    a += x
                    b += x * x
                s1[k] += a
                s2[k] += b
                k += 1
    return e_min


@kernel
def _merge_block(betas, e_min, s1, s2, acc_shift, acc1, acc2, row):
    """Fold one block's ``(E_min, s1, s2)`` into the running sums of sample ``row``.

    The running sums are kept relative to the lowest energy seen so far,
    ``acc_shift[row]``: ``acc1[row, k] = sum_j exp(-beta_k (E_j - shift))``.
    """
    shift = acc_shift[row]
    if e_min < shift:
        for k in range(betas.shape[0]):
            f = math.exp(-betas[k] * (shift - e_min))
            acc1[row, k] = acc1[row, k] * f + s1[k]
            acc2[row, k] = acc2[row, k] * (f * f) + s2[k]
        acc_shift[row] = e_min
    else:
        for k in range(betas.shape[0]):
            f = math.exp(-betas[k] * (e_min - shift))
            acc1[row, k] += s1[k] * f
            acc2[row, k] += s2[k] * (f * f)


@kernel
def _finish(betas, acc_shift, acc1, acc2, log_z, log_z2, participation):
    """Turn the merged sums into ``log Z(beta)``, ``log Z(2 beta)`` and ``Y``."""
    for s in range(acc1.shape[0]):
        shift = acc_shift[s]
        for k in range(betas.shape[0]):
            a1 = acc1[s, k]
            a2 = acc2[s, k]
            log_z[s, k] = math.log(a1) - betas[k] * shift
            log_z2[s, k] = math.log(a2) - 2.0 * betas[k] * shift
            participation[s, k] = a2 / (a1 * a1)


@kernel
def _merge_tasks(betas, rows, e_mins, s1, s2, acc_shift, acc1, acc2):
    """Merge block results ``i = 0, 1, ...`` in that order into sample ``rows[i]``.

    The one merge routine of both :func:`sampled_rem` and :func:`quenched_rem`
    (same compiled code, so the two agree bit for bit); the fixed order makes
    the result independent of the thread count.
    """
    for i in range(rows.shape[0]):
        _merge_block(betas, e_mins[i], s1[i], s2[i], acc_shift, acc1, acc2, rows[i])


# ---------------------------------------------------------------------------
# Results and helpers
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class REMResult:
    """Partition functions of a REM, per disorder sample and inverse temperature.

    Attributes
    ----------
    log_z : ndarray, shape (S, K)
        ``log Z(beta_k)`` with the unnormalised ``Z = sum_j exp(-beta E_j)``.
    log_z_2beta : ndarray, shape (S, K)
        ``log Z(2 beta_k)`` (free with ``log_z``).
    participation : ndarray, shape (S, K)
        ``Y = sum_j p_j^2 = Z(2 beta) / Z(beta)^2``, in ``[1/N, 1]``.
    min_energy : ndarray, shape (S,)
        Lowest level of each sample.
    betas : ndarray, shape (K,)
        The inverse temperatures.
    n_levels : int
        Number of levels ``N`` per sample.
    variance : float or None
        Variance of the Gaussian levels (sampled REM); ``None`` for given energies.
    seed_entropy, seed_spawn_key
        The ``numpy.random.SeedSequence`` that generated the levels (sampled REM);
        block ``b`` of sample ``s`` used ``SeedSequence(seed_entropy,
        spawn_key=seed_spawn_key + (s, b))``. ``None`` and ``()`` for given energies.
    block_size : int
        Levels per block (one random stream per block).

    For 1-D energies passed to :func:`quenched_rem`, the sample axis is dropped.
    """

    log_z: np.ndarray
    log_z_2beta: np.ndarray
    participation: np.ndarray
    min_energy: np.ndarray
    betas: np.ndarray
    n_levels: int
    variance: float | None = None
    seed_entropy: int | None = None
    seed_spawn_key: tuple = ()
    block_size: int = BLOCK_SIZE

    @property
    def n_samples(self) -> int:
        return 1 if self.log_z.ndim == 1 else self.log_z.shape[0]

    @property
    def log_z_normalised(self) -> np.ndarray:
        """``log Z_N = log((1/N) sum_j exp(-beta E_j))`` (Ambrogioni eq. 34)."""
        return self.log_z - math.log(self.n_levels)

    @property
    def free_energy_density(self) -> np.ndarray:
        """``-log Z / (beta M)`` with ``M = log2 N``: comparable with :func:`rem_free_energy`."""
        if self.n_levels < 2:
            raise ValueError(
                f"free_energy_density needs n_levels >= 2 (M = log2 N > 0), got {self.n_levels}"
            )
        return -self.log_z / (self.betas * math.log2(self.n_levels))


def _grid_step(betas: np.ndarray) -> tuple[float, int]:
    """``(dbeta, RESTART)`` if ``betas`` is an increasing uniform grid, else ``(0, 0)``.

    Uniform means ``|beta_k - (beta_0 + k dbeta)| <= 8 ulp(max beta)``, which
    ``numpy.linspace`` grids satisfy: the recurrence then computes each term at
    an inverse temperature within a few ulp of ``beta_k``, i.e. with the same
    error as rounding ``beta_k E`` itself.
    """
    n = betas.shape[0]
    if n < 2:
        return 0.0, 0
    dbeta = (betas[-1] - betas[0]) / (n - 1)
    if not dbeta > 0:
        return 0.0, 0
    grid = betas[0] + dbeta * np.arange(n)
    if np.max(np.abs(grid - betas)) > _UNIFORM_ULPS * _EPS * np.max(betas):
        return 0.0, 0
    return float(dbeta), RESTART


def _check_overflow(betas: np.ndarray, max_abs_energy: float, what: str) -> None:
    """Refuse inputs where ``2 beta E`` or ``E_j - E_min`` would overflow float64."""
    if max_abs_energy >= _FLOAT_MAX / 4:
        raise ValueError(
            f"{what} up to {max_abs_energy!r} overflow float64 in E_j - E_min; "
            "expected max|E| < 4e307"
        )
    if 2.0 * float(np.max(betas)) * max_abs_energy >= _FLOAT_MAX / 4:
        raise ValueError(
            f"betas up to {np.max(betas)!r} times {what} up to {max_abs_energy!r} "
            "overflow float64; "
            "expected 2 * max(beta) * max|E| < 4e307"
        )


def _as_threads(threads) -> int:
    if threads is None:
        return numba.get_num_threads()
    return as_int(threads, "threads", minimum=1)


def _default_variance(n_levels: int) -> float:
    return math.log2(n_levels) / 2.0


def _block_stream(seq: np.random.SeedSequence, sample: int, block: int) -> np.random.Generator:
    """The random stream of block ``block`` of sample ``sample`` (SFC64: a fast NumPy generator)."""
    return np.random.Generator(np.random.SFC64(child_seed(seq, sample, block)))


def _sampling_args(n_levels, n_samples, variance, seed):
    n_levels = as_int(n_levels, "n_levels", minimum=1)
    n_samples = as_int(n_samples, "n_samples", minimum=1)
    if variance is None:
        variance = _default_variance(n_levels)
    else:
        variance = as_float(variance, "variance", nonnegative=True)
    seq = as_seed_sequence(seed)
    return n_levels, n_samples, variance, seq


# ---------------------------------------------------------------------------
# Public API: sampling
# ---------------------------------------------------------------------------


def rem_levels(n_levels, *, n_samples=1, variance=None, seed=None) -> np.ndarray:
    """Materialise the Gaussian levels that :func:`sampled_rem` reduces without storing.

    Physics: ``E_j = sqrt(variance) z_j`` with ``z_j ~ N(0, 1)`` i.i.d., the REM
    of PHYSICS.md §4. Block ``b`` (levels ``b B .. (b+1) B - 1`` with
    ``B = BLOCK_SIZE``) of sample ``s`` is drawn from its own stream,
    ``SeedSequence(entropy, spawn_key=key + (s, b))`` with an SFC64 generator.

    Parameters
    ----------
    n_levels : int
        Levels ``N >= 1`` per sample (any integer, not only powers of two).
    n_samples : int
        Disorder samples ``S >= 1``.
    variance : float, optional
        Variance of each level, ``>= 0``. Default ``M/2`` with ``M = log2 N``
        (the standard REM).
    seed : None, int or numpy.random.SeedSequence
        Seed; the same seed gives the same levels as :func:`sampled_rem`.

    Returns
    -------
    ndarray, shape (S, N), float64
        Uses ``8 S N`` bytes: for tests and small models only.
    """
    n_levels, n_samples, variance, seq = _sampling_args(n_levels, n_samples, variance, seed)
    scale = math.sqrt(variance)
    out = np.empty((n_samples, n_levels))
    for s in range(n_samples):
        for b, start in enumerate(range(0, n_levels, BLOCK_SIZE)):
            stop = min(start + BLOCK_SIZE, n_levels)
            _block_stream(seq, s, b).standard_normal(out=out[s, start:stop])
            out[s, start:stop] *= scale
    return out


class _Worker(threading.local):
    """Per-thread buffers, allocated once per thread and reused for every block."""

    def __init__(self):
        self.levels = np.empty(BLOCK_SIZE)
        self.dbuf = np.empty(_TILE)
        self.xbuf = np.empty(_TILE)
        self.rbuf = np.empty(_TILE)


def _reduce(n_rows: int, n_levels: int, betas: np.ndarray, block_levels, threads: int,
            progress=None) -> dict:
    """Stream every block through :func:`_reduce_block` and merge in block order.

    ``block_levels(row, block, buffer)`` returns the levels of that block (it
    may fill and return ``buffer``). Tasks ``(row, block)`` are taken in a fixed
    order, a wave at a time: a wave is reduced in parallel by ``threads`` worker
    threads (the kernel releases the GIL, and so does NumPy's generator), then
    merged in task order by :func:`_merge_tasks`. The wave size only bounds
    memory; neither it nor the thread count changes a bit of the result.
    ``progress(done, total)``, if given, is called after each wave with the
    number of blocks reduced so far.
    """
    dbeta, restart = _grid_step(betas)
    n_betas = betas.shape[0]
    n_blocks = -(-n_levels // BLOCK_SIZE)
    acc_shift = np.full(n_rows, np.inf)
    acc1 = np.zeros((n_rows, n_betas))
    acc2 = np.zeros((n_rows, n_betas))
    wave = max(8, 4 * threads)
    e_mins = np.empty(wave)
    s1 = np.empty((wave, n_betas))
    s2 = np.empty((wave, n_betas))
    local = _Worker()

    def work(i: int, task: int) -> None:
        row, block = divmod(task, n_blocks)
        start = block * BLOCK_SIZE
        levels = block_levels(row, block, local.levels[: min(BLOCK_SIZE, n_levels - start)])
        e_mins[i] = _reduce_block(
            levels, betas, dbeta, restart, s1[i], s2[i], local.dbuf, local.xbuf, local.rbuf
        )

    n_tasks = n_rows * n_blocks
    pool = ThreadPoolExecutor(max_workers=threads) if threads > 1 else None
    try:
        for first in range(0, n_tasks, wave):
            tasks = range(first, min(first + wave, n_tasks))
            if pool is None:
                for i, task in enumerate(tasks):
                    work(i, task)
            else:
                list(pool.map(work, range(len(tasks)), tasks))
            rows = np.arange(tasks.start, tasks.stop) // n_blocks
            _merge_tasks(betas, rows, e_mins, s1, s2, acc_shift, acc1, acc2)
            if progress is not None:
                progress(tasks.stop, n_tasks)
    finally:
        if pool is not None:
            pool.shutdown()
    log_z = np.empty((n_rows, n_betas))
    log_z2 = np.empty((n_rows, n_betas))
    participation = np.empty((n_rows, n_betas))
    _finish(betas, acc_shift, acc1, acc2, log_z, log_z2, participation)
    return dict(
        log_z=log_z,
        log_z_2beta=log_z2,
        participation=participation,
        min_energy=acc_shift,
        betas=betas,
    )


def sampled_rem(
    n_levels,
    betas,
    *,
    n_samples=1,
    variance=None,
    seed=None,
    threads=None,
    progress=None,
) -> REMResult:
    """Sample Gaussian REMs and return ``log Z``, ``Y`` and the ground state, streaming.

    Physics: ``Z(beta) = sum_{j=1}^N exp(-beta E_j)`` with ``E_j ~ N(0, variance)``
    i.i.d. (Derrida 1981; Ambrogioni 2023 eq. 34 without the ``1/N``; PHYSICS.md
    §4), the participation ratio ``Y = Z(2 beta) / Z(beta)^2 = sum_j p_j^2``, and
    ``min_j E_j``. The levels are generated block by block and never stored:
    memory is ``O(threads * BLOCK_SIZE + S K)`` whatever ``N``.

    Parameters
    ----------
    n_levels : int
        Levels ``N >= 1`` per sample (any integer, not only powers of two).
    betas : float or array_like, shape (K,)
        Inverse temperatures ``> 0`` (units of 1/energy). An increasing uniform
        grid (e.g. ``numpy.linspace``) takes the fast recurrence path; any other
        grid is computed directly, about 4x slower.
    n_samples : int
        Independent disorder samples ``S >= 1``.
    variance : float, optional
        Variance of each level, ``>= 0``. Default ``M/2`` with ``M = log2 N``:
        the standard REM, ``beta_c = 2 sqrt(ln 2)``.
    seed : None, int or numpy.random.SeedSequence
        Seed of the disorder. Results depend only on it (not on ``threads``);
        :func:`rem_levels` with the same arguments returns the very same levels.
    threads : int, optional
        Worker threads (default ``numba.get_num_threads()``). Blocks are spread
        over threads but merged in block order, so the result is bitwise the same
        for any number of threads.
    progress : callable, optional
        ``progress(done, total)`` after each wave of blocks (``total = S x
        ceil(N / BLOCK_SIZE)``), e.g. for a progress bar on long runs.

    Returns
    -------
    REMResult
        ``log_z``, ``log_z_2beta``, ``participation`` of shape (S, K) and
        ``min_energy`` of shape (S,), with the inputs and the seed.
    """
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable(done, total) or None, got {progress!r}")
    n_levels, n_samples, variance, seq = _sampling_args(n_levels, n_samples, variance, seed)
    betas = as_beta(betas, "betas")
    threads = _as_threads(threads)
    scale = math.sqrt(variance)
    # A standard normal drawn by NumPy's ziggurat never exceeds ~40 in practice
    # (P(|z| > 40) ~ 1e-350); 64 leaves margin.
    _check_overflow(betas, 64.0 * scale, "64 standard deviations of the levels")

    def block_levels(row: int, block: int, buffer: np.ndarray) -> np.ndarray:
        _block_stream(seq, row, block).standard_normal(out=buffer)
        buffer *= scale  # in NumPy, exactly as rem_levels does: the same bits
        return buffer

    return REMResult(
        **_reduce(n_samples, n_levels, betas, block_levels, threads, progress),
        n_levels=n_levels,
        variance=variance,
        seed_entropy=seq.entropy,
        seed_spawn_key=tuple(seq.spawn_key),
        block_size=BLOCK_SIZE,
    )


def quenched_rem(energies, betas, *, threads=None) -> REMResult:
    """``log Z``, ``Y`` and the ground state of a REM with given energy levels.

    Physics: ``Z(beta) = sum_j exp(-beta E_j)`` (unnormalised), ``Y = Z(2 beta) /
    Z(beta)^2 = sum_j p_j^2`` (PHYSICS.md §4, Ambrogioni 2023 eq. 34–35), for
    example the levels ``E_j(x) = -x . a_j`` of a data set seen from a field x.
    Same kernel and block order as :func:`sampled_rem`, so
    ``quenched_rem(rem_levels(...), betas)`` reproduces ``sampled_rem(...)`` bit
    for bit; agrees with ``scipy.special.logsumexp`` to round-off.

    Parameters
    ----------
    energies : array_like, shape (N,) or (S, N)
        Finite real levels (integers are converted to float64; float32 is
        widened). Each row is one disorder sample.
    betas : float or array_like, shape (K,)
        Inverse temperatures ``> 0``, in units of 1/energy.
    threads : int, optional
        Worker threads (default ``numba.get_num_threads()``); no effect on the result.

    Returns
    -------
    REMResult
        Arrays of shape (S, K) and (S,), or (K,) and () for 1-D ``energies``.
    """
    energies = as_float_array(energies, "energies", ndim=(1, 2), dtype=np.float64)
    betas = as_beta(betas, "betas")
    one_d = energies.ndim == 1
    if one_d:
        energies = energies[None, :]
    n_rows, n_levels = energies.shape
    _check_overflow(betas, float(np.max(np.abs(energies))), "|energies|")
    threads = _as_threads(threads)

    def block_levels(row: int, block: int, buffer: np.ndarray) -> np.ndarray:
        start = block * BLOCK_SIZE
        return energies[row, start : start + BLOCK_SIZE]

    out = _reduce(n_rows, n_levels, betas, block_levels, threads)
    if one_d:
        out = {key: (value if key == "betas" else value[0]) for key, value in out.items()}
    out["min_energy"] = np.asarray(out["min_energy"])
    return REMResult(**out, n_levels=n_levels)


__all__ = [
    "BLOCK_SIZE",
    "RESTART",
    "REMResult",
    "rem_levels",
    "sampled_rem",
    "quenched_rem",
    # theory (statmech.rem_theory)
    "GeneralREM",
    "ParticipationMoments",
    "rem_critical_beta",
    "rem_log_partition",
    "rem_free_energy",
    "rem_mean_participation",
    "rem_participation_moments",
]
