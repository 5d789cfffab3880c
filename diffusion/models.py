"""Score models: any denoiser or score, and the built-in models with closed forms.

PHYSICS.md §8. Every forward process has the marginal ``x_t = s(t) a +
sqrt(Delta(t)) z`` (§1). A *score model* gives the denoiser ``D(x, t) =
E[a | x_t = x]`` or the score ``grad log P_t(x)``; Tweedie's formula turns one
into the other through the process's ``s`` and ``Delta``:

    score = (s D - x) / Delta,        D = (x + Delta score) / s.

The interface is :class:`ScoreModel`: an object with a ``process`` and
vectorised ``denoise(x, t)`` and ``score(x, t)``, where ``x`` has shape
(B, d) and ``t`` is a scalar or one time per row, shape (B,). Subclasses of
:class:`Model` implement one form (or both); the other follows. A plain
function becomes a model with :class:`DenoiserFunction` or
:class:`ScoreFunction` (or :func:`as_model`), so a trained network needs a
few lines of adapter (README). Every call checks the model's output: a
wrong shape, NaN or inf raises an error naming the time and the row.

Built-in models, each with a closed form to test against:

- :class:`EmpiricalModel`: the exact empirical score (§2), Boltzmann
  weights over the training set; it memorises below ``t_C``.
- :class:`SmoothedEmpiricalModel`: the training points convolved with
  ``N(0, h^2 I)``; the posterior over ``mu`` is the exact one at
  ``Delta + s^2 h^2`` and ``D = sum_mu w_mu [a_mu + s h^2 (x - s a_mu) /
  (Delta + s^2 h^2)]``; ``h = 0`` is the exact model, large ``h``
  generalises.
- :class:`GaussianModel`: ``a ~ N(m, C)`` (fitted to data: the optimal
  linear denoiser) with ``D = m + s C (s^2 C + Delta I)^{-1} (x - s m)``;
  it never memorises. Its marginal ``N(s m, s^2 C + Delta I)`` is the
  Gaussian late start of Raya and Ambrogioni (:meth:`GaussianModel.sample`).
- :class:`TwoGaussiansModel`: ``(N(m, sigma^2 I) + N(-m, sigma^2 I))/2``,
  score ``(m_t tanh(m_t.x / Gamma) - x) / Gamma``, ``m_t = s m``, ``Gamma =
  Delta + sigma^2 s^2`` (two deltas at ``sigma = 0``).
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import numpy as np

from statmech._validation import _has_nonfinite, as_float, as_float_array, as_int, check_same
from statmech.gibbs import gibbs_average

from diffusion.processes import Process, as_process

__all__ = [
    "ScoreModel",
    "Model",
    "DenoiserFunction",
    "ScoreFunction",
    "as_model",
    "EmpiricalModel",
    "SmoothedEmpiricalModel",
    "GaussianModel",
    "TwoGaussiansModel",
    "model_times",
]


@runtime_checkable
class ScoreModel(Protocol):
    """What the diffusion protocols need from a model (PHYSICS.md §8).

    ``process`` is the forward process the model was trained for.
    ``denoise(x, t)`` returns ``E[a | x_t = x]`` and ``score(x, t)`` returns
    ``grad_x log P_t(x)``, both of shape (B, d) for ``x`` of shape (B, d);
    ``t`` is a float, or an array of shape (B,) with one time per row.
    """

    process: Process

    def denoise(self, x, t) -> np.ndarray: ...

    def score(self, x, t) -> np.ndarray: ...


# --------------------------------------------------------------------------
# Checks shared by every model
# --------------------------------------------------------------------------


def model_times(t, n_rows: int, process: Process):
    """Checked times and their coefficients: ``(t, s, delta)``.

    ``t`` is a scalar (returned as float, with float ``s`` and ``Delta``) or
    one time per row, shape ``(n_rows,)`` (arrays of shape (B, 1) come
    back, ready to broadcast against ``x``). Times must be finite, ``> 0``
    and small enough that ``s(t) > 0``.
    """
    if np.ndim(t) == 0:
        t = as_float(t, "t")
        times = np.array([t])
    else:
        times = as_float_array(t, "t", ndim=1, dtype=np.float64)
        if times.shape[0] != n_rows:
            raise ValueError(f"t must be a scalar or hold one time per row of x ({n_rows}), "
                             f"got shape {times.shape}")
    s = np.asarray(process.s(np.maximum(times, 0.0)), dtype=np.float64).reshape(-1)
    delta = np.asarray(process.delta(np.maximum(times, 0.0)), dtype=np.float64).reshape(-1)
    bad = (times <= 0) | (s <= 0) | (delta <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        where = "" if np.ndim(t) == 0 else f" (row {i})"
        raise ValueError(
            f"t must lie in the range of the {process.kind} process where s(t) > 0 and "
            f"Delta(t) > 0 (t > 0, and t < 745 for OU-type), got t={times[i]!r}{where}"
        )
    if np.ndim(t) == 0:
        return float(times[0]), float(s[0]), float(delta[0])
    return times, s[:, None], delta[:, None]


def _time_of_row(t, row):
    return float(t) if np.ndim(t) == 0 else float(t[row])


def check_output(out, x, t, what: str) -> np.ndarray:
    """The model output as an array of ``x``'s shape and dtype, finite, or an error naming t and the row."""
    try:
        arr = np.asarray(out)
    except Exception as exc:  # noqa: BLE001 (any conversion failure is the model's)
        raise TypeError(f"the model's {what} at t={t!r} is not array-like ({exc})") from None
    if arr.shape != x.shape:
        when = f"t={float(t)!r}" if np.ndim(t) == 0 else f"per-row times t={t[0]!r}..."
        raise ValueError(
            f"the model's {what} at {when} has shape {arr.shape}, expected {x.shape} (the shape of x)"
        )
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"the model's {what} must be real numbers, got dtype {arr.dtype}")
    arr = np.ascontiguousarray(arr, dtype=x.dtype)
    if arr.size and _has_nonfinite(arr.reshape(-1)):
        row = int(np.flatnonzero(~np.isfinite(arr).all(axis=1))[0])
        kind = "NaN" if np.isnan(arr[row]).any() else "inf"
        raise FloatingPointError(
            f"the model's {what} is {kind} at t={_time_of_row(t, row)!r} in row {row} "
            f"(of {x.shape[0]})"
        )
    return arr


def _check_states(x, d: int | None):
    x = as_float_array(x, "x", ndim=2)
    if d is not None:
        check_same(x.shape[1], d, "x", "the model", "dimension d (columns)")
    return x


# --------------------------------------------------------------------------
# Base class and wrappers of plain functions
# --------------------------------------------------------------------------

_FORMS = {"_denoise": "denoiser", "_score": "score"}


class Model:
    """Base class of score models: implement ``_denoise`` or ``_score`` (or both).

    ``_denoise(x, t, s, delta)`` and ``_score(x, t, s, delta)`` receive
    checked states ``x`` (B, d), times from :func:`model_times` (a float, or
    arrays of shape (B, 1)) and return a (B, d) array. The public
    :meth:`denoise` and :meth:`score` check inputs and outputs and convert
    with Tweedie's formula when only one form is implemented.

    Attributes
    ----------
    process : Process
    d : int or None
        Dimension, when the model knows it (``None`` for plain functions).
    """

    d: int | None = None

    def __init__(self, process=None):
        self.process = as_process(process)

    # Subclasses override at least one of these; _evaluate converts to the other.
    def _denoise(self, x, t, s, delta):
        raise NotImplementedError

    def _score(self, x, t, s, delta):
        raise NotImplementedError

    def _has_own(self, name):
        return getattr(type(self), name) is not getattr(Model, name)

    def denoise(self, x, t) -> np.ndarray:
        """Posterior mean ``E[a | x_t = x]`` at time(s) ``t`` (shape of ``x``)."""
        return self._evaluate(x, t, "_denoise")

    def score(self, x, t) -> np.ndarray:
        """Score ``grad_x log P_t(x)`` at time(s) ``t`` (shape of ``x``)."""
        return self._evaluate(x, t, "_score")

    def _evaluate(self, x, t, wanted):
        """Checked ``wanted`` form, from the model's own or by Tweedie from the other one."""
        x = _check_states(x, self.d)
        t, s, delta = model_times(t, x.shape[0], self.process)
        other = "_score" if wanted == "_denoise" else "_denoise"
        if self._has_own(wanted):
            return check_output(getattr(self, wanted)(x, t, s, delta), x, t, _FORMS[wanted])
        if not self._has_own(other):
            raise TypeError(f"{type(self).__name__} implements neither _denoise nor _score")
        value = check_output(getattr(self, other)(x, t, s, delta), x, t, _FORMS[other])
        converted = (x + delta * value) / s if wanted == "_denoise" else (s * value - x) / delta
        return check_output(converted, x, t, f"{_FORMS[wanted]} (from its {_FORMS[other]})")

    def describe(self) -> str:
        """One line naming the model and its parameters."""
        return type(self).__name__

    def __repr__(self) -> str:
        return f"<{self.describe()}; {self.process.describe()}>"


class _FunctionModel(Model):
    """A plain function ``f(x, t)`` returning NumPy arrays, as a model."""

    def __init__(self, func, process=None, *, d=None, name=None):
        if not callable(func):
            raise TypeError(f"the model function must be callable, got {type(func).__name__}")
        super().__init__(process)
        self.func = func
        self.d = None if d is None else as_int(d, "d", minimum=1)
        self.name = name or getattr(func, "__name__", type(func).__name__)

    def _call(self, x, t):
        # A scalar time goes to the function as a float; per-row times as a (B,) array.
        return self.func(x, t)


class DenoiserFunction(_FunctionModel):
    """A model from a denoiser function ``f(x, t) -> E[a | x_t = x]``.

    Parameters
    ----------
    func : callable
        ``func(x, t)`` with ``x`` of shape (B, d) and ``t`` a float or a
        (B,) array, returning an array of shape (B, d).
    process : Process, optional
        The forward process the function was trained for (default OU, T = 1).
    d : int, optional
        Dimension, checked against ``x`` when given.
    name : str, optional
    """

    def _denoise(self, x, t, s, delta):
        return self._call(x, t)

    def describe(self):
        return f"denoiser function {self.name}"


class ScoreFunction(_FunctionModel):
    """A model from a score function ``f(x, t) -> grad_x log P_t(x)`` (parameters as :class:`DenoiserFunction`)."""

    def _score(self, x, t, s, delta):
        return self._call(x, t)

    def describe(self):
        return f"score function {self.name}"


def as_model(model, process=None, *, output=None) -> Model:
    """Any accepted form of a score model, as a :class:`Model` whose outputs are checked.

    Parameters
    ----------
    model : Model, object with ``denoise``/``score`` methods, or callable
        - a :class:`Model` is returned as it is;
        - an object following :class:`ScoreModel` (a ``denoise`` or ``score``
          method, and optionally ``process``) is wrapped, its ``denoise``
          preferred;
        - a plain function ``f(x, t)`` needs ``output``.
    process : Process, optional
        Forward process; must equal the model's own when it has one.
    output : {None, "denoiser", "score"}
        What a plain function returns.

    Raises
    ------
    TypeError
        Not callable and no ``denoise``/``score``; a plain function without ``output``.
    ValueError
        ``process`` differs from the model's own.
    """
    if output not in (None, "denoiser", "score"):
        raise ValueError(f"output must be 'denoiser', 'score' or None, got {output!r}")
    if isinstance(model, Model) or (hasattr(model, "denoise") or hasattr(model, "score")):
        own = getattr(model, "process", None)
        if own is not None and process is not None and own != process:
            raise ValueError(
                f"process {process.describe()!r} differs from the model's own {own.describe()!r}")
        if isinstance(model, Model):
            return model
        process = own if own is not None else process
        d = getattr(model, "d", None)
        d = d if isinstance(d, int) else None
        if callable(getattr(model, "denoise", None)):
            return DenoiserFunction(model.denoise, process, d=d, name=type(model).__name__)
        if callable(getattr(model, "score", None)):
            return ScoreFunction(model.score, process, d=d, name=type(model).__name__)
    if not callable(model):
        raise TypeError(
            "model must be a diffusion.models.Model, an object with a denoise(x, t) or score(x, t) "
            f"method, or a callable f(x, t); got {type(model).__name__}"
        )
    if output is None:
        raise TypeError(
            "a plain function is ambiguous: say what it returns with output='denoiser' or "
            "output='score' (or wrap it in DenoiserFunction / ScoreFunction)"
        )
    cls = DenoiserFunction if output == "denoiser" else ScoreFunction
    return cls(model, process)


# --------------------------------------------------------------------------
# Built-in models
# --------------------------------------------------------------------------


class SmoothedEmpiricalModel(Model):
    """Training points convolved with ``N(0, h^2 I)``: from memorising (``h = 0``) to generalising.

    The noised law is ``(1/n) sum_mu N(s a_mu, (Delta + s^2 h^2) I)``, so the
    posterior over ``mu`` is the exact empirical one (PHYSICS.md §2) at
    ``Delta' = Delta + s^2 h^2``, and (PHYSICS.md §8)

        D = sum_mu w_mu [a_mu + s h^2 (x - s a_mu) / Delta']
          = (Delta / Delta') <a>' + (s h^2 / Delta') x,

    with ``<a>'`` the posterior mean at ``Delta'``: one pass of the shared
    Gibbs kernel (coupling ``s``, offsets ``-s^2 |a_mu|^2 / 2``, inverse
    temperature ``1 / Delta'``). With one time per row the same weights are
    written ``exp((s^2 / Delta') ((x / s).a_mu - |a_mu|^2 / 2))``, one pass
    for all rows.

    Parameters
    ----------
    data : array_like, shape (n, d)
        Training points, finite (float32 stays float32).
    bandwidth : float, ``>= 0``
        ``h``.
    process : Process, optional
    chunk_size : int, optional
        Data rows per Gibbs chunk (memory only).
    """

    def __init__(self, data, bandwidth=0.0, process=None, *, chunk_size=None):
        super().__init__(process)
        self.data = as_float_array(data, "data", ndim=2)
        self.n, self.d = self.data.shape
        self.bandwidth = as_float(bandwidth, "bandwidth", nonnegative=True)
        self.chunk_size = None if chunk_size is None else as_int(chunk_size, "chunk_size", minimum=1)
        self.sqnorm = np.einsum("ij,ij->i", self.data, self.data, dtype=np.float64)

    def posterior_mean(self, x, t, s, delta_eff):
        """``<a>'`` with weights ``softmax_mu(-|x - s a_mu|^2 / (2 Delta'))`` (checked inputs)."""
        if np.ndim(t) == 0:
            g = gibbs_average(self.data, x, 1.0 / delta_eff, coupling=s,
                              offsets=-0.5 * s * s * self.sqnorm, chunk_size=self.chunk_size)
        else:
            g = gibbs_average(self.data, (x / s).astype(x.dtype, copy=False),
                              (s * s / delta_eff)[:, 0], offsets=-0.5 * self.sqnorm,
                              chunk_size=self.chunk_size)
        return g.mean

    def _denoise(self, x, t, s, delta):
        h2 = self.bandwidth**2
        delta_eff = delta + s * s * h2
        mean = self.posterior_mean(x, t, s, delta_eff)
        if h2 == 0.0:
            return mean
        return (delta / delta_eff) * mean + (s * h2 / delta_eff) * x

    def describe(self):
        return f"smoothed empirical model, h={self.bandwidth:g} (n={self.n}, d={self.d})"


class EmpiricalModel(SmoothedEmpiricalModel):
    """The exact empirical score of the training set (PHYSICS.md §2): :class:`SmoothedEmpiricalModel` at ``h = 0``.

    ``denoise(x, t)`` at one time equals :func:`diffusion.score.empirical_posterior`'s
    ``denoiser`` bit for bit (same Gibbs pass). Parameters as there, without ``bandwidth``.
    """

    def __init__(self, data, process=None, *, chunk_size=None):
        super().__init__(data, 0.0, process, chunk_size=chunk_size)

    def describe(self):
        return f"exact empirical model (n={self.n}, d={self.d})"


class GaussianModel(Model):
    """Data law ``N(m, C)``: the optimal linear denoiser, which never memorises (PHYSICS.md §8).

    ``D = m + s C (s^2 C + Delta I)^{-1} (x - s m)``, computed in the
    eigenbasis ``C = U diag(lambda) U^T``:
    ``D = m + U diag(s lambda / (s^2 lambda + Delta)) U^T (x - s m)``.

    Parameters
    ----------
    mean : array_like, shape (d,)
    covariance : array_like, shape (d, d)
        Symmetric positive semi-definite (eigenvalues below ``-1e-10 ||C||``
        are refused; smaller negative ones, round-off, are set to 0).
    process : Process, optional
    """

    def __init__(self, mean, covariance, process=None):
        super().__init__(process)
        self.mean = as_float_array(mean, "mean", ndim=1, dtype=np.float64)
        self.d = self.mean.shape[0]
        cov = as_float_array(covariance, "covariance", ndim=2, dtype=np.float64)
        if cov.shape != (self.d, self.d):
            raise ValueError(f"covariance must have shape ({self.d}, {self.d}), got {cov.shape}")
        if not np.allclose(cov, cov.T, rtol=1e-10, atol=1e-12 * np.abs(cov).max()):
            raise ValueError("covariance must be symmetric")
        eigval, eigvec = np.linalg.eigh(0.5 * (cov + cov.T))
        scale = max(float(np.abs(eigval).max()), np.finfo(float).tiny)
        if eigval.min() < -1e-10 * scale:
            raise ValueError(f"covariance must be positive semi-definite, got eigenvalue {eigval.min():.3g}")
        self.covariance = cov
        self.eigenvalues = np.maximum(eigval, 0.0)
        self.eigenvectors = eigvec

    @classmethod
    def fit(cls, data, process=None, *, ddof=0) -> "GaussianModel":
        """Mean and covariance of ``data`` (``ddof=0``: the training set's own, the optimal linear denoiser)."""
        data = as_float_array(data, "data", ndim=2, dtype=np.float64)
        ddof = as_int(ddof, "ddof", minimum=0)
        if data.shape[0] <= ddof:
            raise ValueError(f"need more than ddof={ddof} data rows, got {data.shape[0]}")
        mean = data.mean(axis=0)
        centred = data - mean
        return cls(mean, centred.T @ centred / (data.shape[0] - ddof), process)

    def _gain(self, s, delta):
        lam = self.eigenvalues
        return s * lam / (s * s * lam + delta)  # (d,) or (B, d)

    def _denoise(self, x, t, s, delta):
        u = (x.astype(np.float64) - s * self.mean) @ self.eigenvectors
        return self.mean + (self._gain(s, delta) * u) @ self.eigenvectors.T

    def _score(self, x, t, s, delta):
        # -(s^2 C + Delta I)^{-1} (x - s m), in the eigenbasis.
        u = (x.astype(np.float64) - s * self.mean) @ self.eigenvectors
        return -(u / (s * s * self.eigenvalues + delta)) @ self.eigenvectors.T

    def marginal(self, t):
        """``(s m, s^2 C + Delta I)``: the law of ``x_t`` (PHYSICS.md §8)."""
        t, s, delta = model_times(t, 1, self.process)
        return s * self.mean, s * s * self.covariance + delta * np.eye(self.d)

    def sample(self, n, t, *, seed=None) -> np.ndarray:
        """``n`` draws of ``x_t ~ N(s m, s^2 C + Delta I)``: the Gaussian late start (Raya and Ambrogioni)."""
        from statmech._validation import as_generator

        n = as_int(n, "n", minimum=1)
        t, s, delta = model_times(t, 1, self.process)
        return self.transform(as_generator(seed).standard_normal((n, self.d)), s, delta)

    def transform(self, z, s, delta) -> np.ndarray:
        """``s m + (s^2 C + Delta I)^{1/2} z`` for standard normal rows ``z`` (eigenbasis square root)."""
        scale = np.sqrt(s * s * self.eigenvalues + delta)
        return s * self.mean + (np.asarray(z, dtype=np.float64) * scale) @ self.eigenvectors.T

    def describe(self):
        return f"Gaussian model (d={self.d}, top eigenvalue {self.eigenvalues[-1]:.4g})"


class TwoGaussiansModel(Model):
    """Population model ``(N(m, sigma^2 I) + N(-m, sigma^2 I))/2`` (PHYSICS.md §2, §5).

    ``score = (m_t tanh(m_t.x / Gamma) - x) / Gamma`` and
    ``D = (sigma^2 s x + Delta m tanh(m_t.x / Gamma)) / Gamma``, with
    ``m_t = s m``, ``Gamma = Delta + sigma^2 s^2``. ``sigma = 0``: two deltas.

    Parameters
    ----------
    centre : array_like, shape (d,)
        ``m``.
    sigma : float, ``>= 0``
    process : Process, optional
    """

    def __init__(self, centre, sigma, process=None):
        super().__init__(process)
        self.centre = as_float_array(centre, "centre", ndim=1, dtype=np.float64)
        self.d = self.centre.shape[0]
        self.sigma = as_float(sigma, "sigma", nonnegative=True)

    def _pull(self, x, s, delta):
        gamma = delta + self.sigma**2 * s * s
        overlap = x.astype(np.float64) @ self.centre  # (B,)
        u = np.tanh(np.reshape(s, (-1,)) * overlap / np.reshape(gamma, (-1,)))
        return gamma, u[:, None]

    def _score(self, x, t, s, delta):
        gamma, tanh = self._pull(x, s, delta)
        return (s * tanh * self.centre - x) / gamma

    def _denoise(self, x, t, s, delta):
        gamma, tanh = self._pull(x, s, delta)
        return (self.sigma**2 * s * x + delta * tanh * self.centre) / gamma

    def describe(self):
        return f"two Gaussians, |m|={math.sqrt(float(self.centre @ self.centre)):.4g}, sigma={self.sigma:g} (d={self.d})"
