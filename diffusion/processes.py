"""Forward noising processes in the one form ``x_t = s(t) a + sqrt(Delta(t)) z``.

PHYSICS.md §1. Every process here has the Gaussian transition
``x_t | a ~ N(s(t) a, Delta(t) I)`` and a linear forward SDE
``dx = -k x dt + g dW`` (``k``, ``g`` constant in the process's own time):

=====================  =============  =========================  ==============  =========
process                ``s(t)``       ``Delta(t)``               ``k``           ``g^2``
=====================  =============  =========================  ==============  =========
OU / variance pres.    ``exp(-t)``    ``T (1 - exp(-2t))``       1               ``2 T``
VE / Brownian          1              ``sigma^2 t``              0               ``sigma^2``
DDPM (in OU time)      ``exp(-t)``    ``1 - exp(-2t)``           1               2
=====================  =============  =========================  ==============  =========

(dynamical-regimes eq. 1–2; Ambrogioni eq. 1–2). The DDPM linear schedule
``beta_k`` from ``1e-4`` to ``2e-2`` over 1000 steps is the OU process at
the times ``t_k = -1/2 log(prod_{j<=k} (1 - beta_j))`` (so ``t_end ~ 5.06``);
:meth:`Process.schedule_times` returns them.

``beta(t) = 1/Delta(t)`` is the inverse temperature of the posterior over
the data (PHYSICS.md §2–3): the Gibbs weights are
``exp(beta (s x.a - s^2 |a|^2 / 2))``. For VE it is Ambrogioni's
``beta = 1/(t sigma^2)``.

Times are the forward (noising) time: the generative dynamics runs from
``t_end`` down to ``t_min > 0``. Time grids are therefore returned in
*decreasing* order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from statmech._numba import kernel
from statmech._validation import (
    as_float,
    as_float_array,
    as_generator,
    as_int,
    as_positive_array,
)

__all__ = [
    "Process",
    "as_process",
    "ou_process",
    "ve_process",
    "ddpm_process",
    "ddpm_schedule_times",
    "KINDS",
]

#: Process kinds and the code the kernels use for them (DDPM is OU in OU time).
KINDS = {"ou": 0, "ddpm": 0, "ve": 1}


@dataclass(frozen=True)
class Process:
    """A forward process ``x_t = s(t) a + sqrt(Delta(t)) z`` (PHYSICS.md §1).

    Build it with :func:`ou_process`, :func:`ve_process` or
    :func:`ddpm_process` (they validate the parameters).

    Attributes
    ----------
    kind : {"ou", "ve", "ddpm"}
    temperature : float
        ``T`` of the OU process (1 for VE and DDPM, where it is unused).
    sigma : float
        Noise amplitude of the VE process (1 elsewhere, unused).
    beta_min, beta_max : float
        DDPM schedule end points (unused elsewhere).
    n_schedule : int
        Number of DDPM steps (unused elsewhere).
    """

    kind: str
    temperature: float = 1.0
    sigma: float = 1.0
    beta_min: float = 1e-4
    beta_max: float = 2e-2
    n_schedule: int = 1000

    # -- coefficients -------------------------------------------------------

    @property
    def code(self) -> int:
        """Kernel code: 0 for OU-type (OU, DDPM), 1 for VE."""
        return KINDS[self.kind]

    @property
    def drift_rate(self) -> float:
        """``k`` in the forward SDE ``dx = -k x dt + g dW``."""
        return 1.0 if self.code == 0 else 0.0

    @property
    def noise_variance(self) -> float:
        """``g^2`` in the forward SDE (``2T`` for OU, ``sigma^2`` for VE)."""
        return 2.0 * self.temperature if self.code == 0 else self.sigma**2

    @property
    def stationary_variance(self) -> float:
        """``lim Delta(t)`` (``T`` for OU-type; ``inf`` for VE)."""
        return self.temperature if self.code == 0 else math.inf

    @property
    def default_t_end(self) -> float:
        """A start time of the generative dynamics: the DDPM end time, 5.06, else 5."""
        if self.kind == "ddpm":
            return float(self.schedule_times()[-1])
        return 5.0

    def s(self, t):
        """Signal scale ``s(t)``: ``exp(-t)`` (OU, DDPM) or 1 (VE) (PHYSICS.md §1).

        Parameters
        ----------
        t : float or array_like
            Times ``>= 0``.

        Returns
        -------
        float or ndarray
        """
        t = _as_times(t, "t", allow_zero=True)
        out = np.exp(-t) if self.code == 0 else np.ones_like(t)
        return _scalar_or_array(out)

    def delta(self, t):
        """Noise variance ``Delta(t)``: ``-T expm1(-2t)`` (OU, DDPM) or ``sigma^2 t`` (VE).

        Parameters
        ----------
        t : float or array_like
            Times ``>= 0``.

        Returns
        -------
        float or ndarray
        """
        t = _as_times(t, "t", allow_zero=True)
        out = -self.temperature * np.expm1(-2.0 * t) if self.code == 0 else self.sigma**2 * t
        return _scalar_or_array(out)

    def beta(self, t):
        """Posterior inverse temperature ``1/Delta(t)`` (PHYSICS.md §2–3).

        Parameters
        ----------
        t : float or array_like
            Times ``> 0``.

        Returns
        -------
        float or ndarray
        """
        t = _as_times(t, "t", allow_zero=False)
        return _scalar_or_array(1.0 / np.asarray(self.delta(t)))

    # -- time grids ---------------------------------------------------------

    def schedule_times(self) -> np.ndarray:
        """DDPM step times in OU time (:func:`ddpm_schedule_times` of this schedule).

        Returns
        -------
        ndarray, shape (n_schedule,)
            Increasing times ``t_1 .. t_N``.

        Raises
        ------
        ValueError
            For a process that is not ``"ddpm"``.
        """
        if self.kind != "ddpm":
            raise ValueError(f"schedule_times is only defined for kind='ddpm', got {self.kind!r}")
        return ddpm_schedule_times(self.beta_min, self.beta_max, self.n_schedule)

    def time_grid(self, t_min, t_end=None, n_steps=200, *, spacing="uniform", include=None):
        """A decreasing grid ``t_end = t_0 > t_1 > ... > t_K = t_min`` for the backward dynamics.

        Parameters
        ----------
        t_min : float
            Last (smallest) time, ``> 0``.
        t_end : float, optional
            First time, ``> t_min`` (default :attr:`default_t_end`).
        n_steps : int
            Number of steps ``K >= 1`` (ignored for ``spacing="schedule"``).
        spacing : {"uniform", "log", "schedule"}
            ``"uniform"`` in ``t``; ``"log"``: uniform in ``log t``, so the
            steps shrink toward ``t_min`` where ``Delta -> 0`` makes the
            score stiff; ``"schedule"`` (DDPM only): the DDPM step times in
            ``[t_min, t_end]``, with ``t_min`` and ``t_end`` added.
        include : array_like, optional
            Times in ``[t_min, t_end]`` that must be on the grid (cloning or
            snapshot times); they are merged in.

        Returns
        -------
        ndarray, shape (K+1,), strictly decreasing.
        """
        t_min = as_float(t_min, "t_min", positive=True)
        t_end = self.default_t_end if t_end is None else as_float(t_end, "t_end", positive=True)
        if not t_min < t_end:
            raise ValueError(f"t_min must be < t_end, got t_min={t_min} and t_end={t_end}")
        if spacing == "schedule":
            sched = self.schedule_times()
            inner = sched[(sched > t_min) & (sched < t_end)]
            grid = np.concatenate(([t_min], inner, [t_end]))
        elif spacing in ("uniform", "log"):
            n_steps = as_int(n_steps, "n_steps", minimum=1)
            if spacing == "uniform":
                grid = np.linspace(t_min, t_end, n_steps + 1)
            else:
                grid = np.exp(np.linspace(math.log(t_min), math.log(t_end), n_steps + 1))
                grid[0], grid[-1] = t_min, t_end
        else:
            raise ValueError(
                f"spacing must be 'uniform', 'log' or 'schedule', got {spacing!r}"
            )
        if include is not None:
            extra = as_float_array(include, "include", ndim=(0, 1), dtype=np.float64).ravel()
            bad = (extra < t_min) | (extra > t_end)
            if bad.any():
                raise ValueError(
                    f"include times must lie in [t_min, t_end] = [{t_min}, {t_end}], "
                    f"got {extra[bad][0]}"
                )
            grid = np.union1d(grid, extra)
            # Drop grid points within round-off of an included time.
            keep = np.concatenate(([True], np.diff(grid) > 1e-12 * t_end))
            grid = grid[keep]
            for value in extra:
                grid[np.argmin(np.abs(grid - value))] = value
        return np.ascontiguousarray(grid[::-1])

    def sample_marginal(self, data, t, *, seed=None, n_samples=None):
        """Draw ``x_t = s(t) a_nu + sqrt(Delta(t)) z`` with ``nu`` uniform over the data rows.

        Parameters
        ----------
        data : array_like, shape (n, d)
        t : float, ``>= 0``
        seed : int, SeedSequence, Generator or None
        n_samples : int, optional
            Number of draws (default ``n``, one per data row in order,
            ``nu = 0..n-1``).

        Returns
        -------
        x : ndarray, shape (M, d)
        index : ndarray of int64, shape (M,)
            The ``nu`` of each draw.
        """
        data = as_float_array(data, "data", ndim=2)
        t = as_float(t, "t", nonnegative=True)
        rng = as_generator(seed)
        n = data.shape[0]
        if n_samples is None:
            index = np.arange(n, dtype=np.int64)
        else:
            index = rng.integers(0, n, size=as_int(n_samples, "n_samples", minimum=1))
        z = rng.standard_normal((index.shape[0], data.shape[1]))
        s, delta = float(self.s(t)), float(self.delta(t))
        return s * data[index] + math.sqrt(delta) * z, index

    def describe(self) -> str:
        """One line naming the process and its parameter.

        Returns
        -------
        str
        """
        if self.kind == "ou":
            return f"OU (variance preserving), T={self.temperature:g}"
        if self.kind == "ve":
            return f"VE (Brownian), sigma={self.sigma:g}"
        return (f"DDPM linear schedule beta={self.beta_min:g}..{self.beta_max:g} over "
                f"{self.n_schedule} steps, in OU time")


def ou_process(temperature=1.0) -> Process:
    """Ornstein–Uhlenbeck / variance-preserving process ``dx = -x dt + sqrt(2T) dW``.

    ``s = exp(-t)``, ``Delta = T (1 - exp(-2t))`` (dynamical-regimes eq. 1–2,
    PHYSICS.md §1).

    Parameters
    ----------
    temperature : float
        ``T > 0`` (the stationary variance).

    Returns
    -------
    Process
    """
    return Process("ou", temperature=as_float(temperature, "temperature", positive=True))


def ve_process(sigma=1.0) -> Process:
    """Brownian / variance-exploding process ``dx = sigma dW``.

    ``s = 1``, ``Delta = sigma^2 t`` (Ambrogioni eq. 1–2, PHYSICS.md §1).

    Parameters
    ----------
    sigma : float
        Noise amplitude ``> 0``.

    Returns
    -------
    Process
    """
    return Process("ve", sigma=as_float(sigma, "sigma", positive=True))


def ddpm_process(beta_min=1e-4, beta_max=2e-2, n_schedule=1000) -> Process:
    """The DDPM linear schedule, read as the OU process (``T = 1``) in OU time.

    ``t_k = -1/2 log alphabar_k``, ``alphabar_k = prod_{j<=k} (1 - beta_j)``
    (PHYSICS.md §1, protocol of the dynamical-regimes code).

    Parameters
    ----------
    beta_min, beta_max : float
        Schedule end points, ``0 < beta_min <= beta_max < 1``.
    n_schedule : int
        Number of steps ``>= 1``.

    Returns
    -------
    Process
    """
    beta_min, beta_max, n_schedule = _check_schedule(beta_min, beta_max, n_schedule)
    return Process("ddpm", beta_min=beta_min, beta_max=beta_max, n_schedule=n_schedule)


def _check_schedule(beta_min, beta_max, n_schedule):
    """A DDPM linear schedule's ``(beta_min, beta_max, n_schedule)``, checked."""
    beta_min = as_float(beta_min, "beta_min", positive=True)
    beta_max = as_float(beta_max, "beta_max", positive=True)
    if not beta_min <= beta_max < 1.0:
        raise ValueError(
            f"need 0 < beta_min <= beta_max < 1, got beta_min={beta_min}, beta_max={beta_max}"
        )
    return beta_min, beta_max, as_int(n_schedule, "n_schedule", minimum=1)


def ddpm_schedule_times(beta_min=1e-4, beta_max=2e-2, n_schedule=1000) -> np.ndarray:
    """OU times ``t_k = -1/2 sum_{j<=k} log(1 - beta_j)`` of the DDPM linear schedule.

    ``beta_j`` runs linearly from ``beta_min`` to ``beta_max`` over
    ``n_schedule`` steps (PHYSICS.md §1).

    Parameters
    ----------
    beta_min, beta_max : float
        Schedule end points, ``0 < beta_min <= beta_max < 1``.
    n_schedule : int
        Number of steps ``>= 1``.

    Returns
    -------
    ndarray, shape (n_schedule,)
        Increasing times ``t_1 .. t_N``; ``t_N ~ 5.06`` for the default schedule.
    """
    beta_min, beta_max, n_schedule = _check_schedule(beta_min, beta_max, n_schedule)
    betas = np.linspace(beta_min, beta_max, n_schedule)
    return -0.5 * np.cumsum(np.log1p(-betas))


def as_process(process) -> Process:
    """``process``, checked, or the default OU process (``T = 1``) for ``None``.

    Parameters
    ----------
    process : Process or None

    Returns
    -------
    Process

    Raises
    ------
    TypeError
        If ``process`` is not a :class:`Process`.
    """
    if process is None:
        return ou_process()
    if not isinstance(process, Process):
        raise TypeError(
            "process must be a diffusion.processes.Process (ou_process(), ve_process(), "
            f"ddpm_process()), got {type(process).__name__}"
        )
    return process


# --------------------------------------------------------------------------
# Kernel-side coefficients.
# --------------------------------------------------------------------------


@kernel
def process_coefficients(code, temperature, sigma, t):
    """``(s(t), Delta(t))`` for a kernel code at ``t >= 0`` (kernel; PHYSICS.md §1).

    Parameters
    ----------
    code : int
        0 for OU-type (OU, DDPM), 1 for VE (:attr:`Process.code`).
    temperature : float
        ``T`` (OU).
    sigma : float
        Noise amplitude (VE).
    t : float

    Returns
    -------
    tuple of float
        ``(s, Delta)``.
    """
    if code == 0:
        return math.exp(-t), -temperature * math.expm1(-2.0 * t)
    return 1.0, sigma * sigma * t


def _as_times(t, name, *, allow_zero):
    return as_positive_array(t, name, ndim=None, allow_zero=allow_zero, contiguous=False)


def _scalar_or_array(out):
    out = np.asarray(out, dtype=np.float64)
    return float(out) if out.ndim == 0 else out
