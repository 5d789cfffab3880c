"""Plain NumPy/SciPy references for the kernels (in the spirit of STUMPY's tests/naive.py).

Each function here is the textbook formula, written for clarity, with no
chunking, no streaming and no custom exp. The tests compare every kernel
with its reference here; the benchmarks (``benchmarks/``) time the same
functions as their NumPy baselines, so a reference is written once.
Where a kernel consumes random numbers, its reference draws the same numbers
in the same (documented) order, so the two agree to round-off.

Contents, by package:

- ``statmech``: :func:`gibbs_reference`, :func:`integrate`,
  :func:`rem_log_partitions`, :func:`rem_reference`,
  :func:`rem_expected_minimum`, :func:`curie_weiss_root`;
- ``diffusion``: :func:`posterior`, :func:`log_density`,
  :func:`backward_sampler`, :func:`sampler_initial_states`,
  :func:`heun_delta_moments`, :func:`excess_entropy_values`,
  :func:`gm_excess_entropy_explicit`, :func:`gm_phi_quadrature`,
  :func:`curie_weiss_magnetisation_law`;
- ``hopfield``: :func:`hopfield_energy`, :func:`hopfield_update`,
  :func:`hopfield_retrieve`, :func:`classical_sync`, :func:`classical_async`.
"""

import itertools
import math

import numpy as np
import scipy.integrate
import scipy.optimize
import scipy.special

# ---------------------------------------------------------------------------
# statmech
# ---------------------------------------------------------------------------


def gibbs_reference(patterns, states, beta, coupling=1.0, offsets=None, dtype=np.float64):
    """``log Z``, mean, participation, argmax and the log-weights from the full B x n matrix.

    ``l_mu(x_b) = beta_b (c x_b.a_mu + b_mu)``; ``dtype`` is the precision of
    the arithmetic (float64 unless a float32 baseline is wanted).
    """
    patterns = np.asarray(patterns, dtype=dtype)
    states = np.asarray(states, dtype=dtype)
    beta = np.broadcast_to(np.asarray(beta, dtype=np.float64), (states.shape[0],))
    log_weights = states @ patterns.T
    if coupling != 1.0:
        log_weights *= coupling
    if offsets is not None:
        log_weights += np.asarray(offsets, dtype=np.float64)[None, :]
    log_weights *= beta[:, None]
    log_z = scipy.special.logsumexp(log_weights, axis=1)
    weights = np.exp(log_weights - log_z[:, None])
    return log_z, weights @ patterns, (weights**2).sum(axis=1), log_weights.argmax(axis=1), log_weights


def integrate(f, x0, times, g, method, dW=None, lam=None, seed=None, path=True):
    """The three schemes of :mod:`statmech.langevin` in plain NumPy (its module docstring).

    ``f(x, t)`` is a NumPy drift; ``dW`` the increments ``(K, B, d)``, or
    ``seed``: then step ``k`` draws ``sqrt(h_k) * standard_normal(x.shape)``
    from one generator (the order of ``integrate(seed=...)``), or neither for
    ``g = 0``. Returns every state ``(K+1, B, d)`` if ``path``, else the last.
    """
    x = np.array(x0, dtype=float)
    g = np.broadcast_to(np.asarray(g, dtype=float), times.shape)
    rng = np.random.default_rng(seed) if seed is not None else None
    states = [x.copy()] if path else None
    for k in range(len(times) - 1):
        t0, t1 = times[k], times[k + 1]
        h = abs(t1 - t0)
        if dW is not None:
            noise = dW[k]
        elif rng is not None:
            noise = math.sqrt(h) * rng.standard_normal(x.shape)
        else:
            noise = 0.0
        if method == "euler_maruyama":
            x = x + h * f(x, t0) + g[k] * noise
        elif method == "heun":
            f0 = f(x, t0)
            xp = x + h * f0 + g[k] * noise
            x = x + 0.5 * h * (f0 + f(xp, t1)) + 0.5 * (g[k] + g[k + 1]) * noise
        else:
            lb = 0.5 * (lam[k] + lam[k + 1])
            decay = np.exp(-lb * h)
            phi = (1 - decay) / lb if lb != 0 else h
            c = np.sqrt((1 - np.exp(-2 * lb * h)) / (2 * lb * h)) if lb != 0 else 1.0
            x = decay * x + phi * f(x, t0) + g[k] * c * noise
        if path:
            states.append(x.copy())
    return np.array(states) if path else x


def rem_log_partitions(energies, betas):
    """``log Z(beta)`` and ``log Z(2 beta)`` of each row, one ``scipy.special.logsumexp`` each."""
    energies = np.atleast_2d(np.asarray(energies, dtype=np.float64))
    betas = np.atleast_1d(np.asarray(betas, dtype=np.float64))
    log_z, log_z2 = (np.empty((energies.shape[0], betas.size)) for _ in range(2))
    for r, row in enumerate(energies):
        for k, b in enumerate(betas):
            log_z[r, k] = scipy.special.logsumexp(-b * row)
            log_z2[r, k] = scipy.special.logsumexp(-2.0 * b * row)
    return log_z, log_z2


def rem_reference(energies, betas):
    """``log Z(beta)``, ``log Z(2 beta)``, ``Y`` and ``min E`` for each row, textbook style."""
    energies = np.atleast_2d(np.asarray(energies, dtype=np.float64))
    betas = np.atleast_1d(np.asarray(betas, dtype=np.float64))
    log_z, log_z2 = rem_log_partitions(energies, betas)
    y = np.empty_like(log_z)
    for r, row in enumerate(energies):
        # Y from the weights relative to the ground state: no large logs cancel.
        shifted = row - row.min()
        for k, b in enumerate(betas):
            y[r, k] = np.exp(-2.0 * b * shifted).sum() / np.exp(-b * shifted).sum() ** 2
    return log_z, log_z2, y, energies.min(axis=1)


def rem_expected_minimum(n_levels, sigma):
    """``E[min_j E_j]`` for ``n`` i.i.d. ``N(0, sigma^2)``: exact quadrature.

    ``E[max z] = int_0^inf (1 - Phi^n) dz - int_-inf^0 Phi^n dz``.
    """
    log_cdf = scipy.special.log_ndtr
    upper = scipy.integrate.quad(lambda z: -np.expm1(n_levels * log_cdf(z)), 0, 40, limit=200)[0]
    lower = scipy.integrate.quad(lambda z: np.exp(n_levels * log_cdf(z)), -40, 0, limit=200)[0]
    return -sigma * (upper - lower)


def curie_weiss_root(T, h=0.0, sign=1.0):
    """Brentq on ``m - tanh((m + h)/T)`` for the chosen branch.

    ``sign = 0``: the unique root for T > 1. ``sign = ±1``: the ±m branch for
    T < 1, bracketed away from the other roots by half the zero-field root.
    """
    f = lambda m: m - np.tanh((m + h) / T)  # noqa: E731
    if sign == 0:
        return scipy.optimize.brentq(f, -1.0, 1.0, xtol=1e-300, rtol=1e-15)
    m0 = scipy.optimize.brentq(lambda m: m - np.tanh(m / T), 1e-300, 1.0, xtol=1e-300, rtol=1e-15)
    if sign > 0:
        return scipy.optimize.brentq(f, 0.5 * m0, 1.0, xtol=1e-300, rtol=1e-15)
    return scipy.optimize.brentq(f, -1.0, -0.5 * m0, xtol=1e-300, rtol=1e-15)


# ---------------------------------------------------------------------------
# diffusion
# ---------------------------------------------------------------------------


def _posterior_log_weights(data, x, s, delta):
    """``(s x.a_mu - s^2 |a_mu|^2 / 2) / Delta``: ``-|x - s a_mu|^2/(2 Delta)`` up to a per-row constant."""
    sqnorm = (data * data).sum(1)
    return (s * (x @ data.T) - 0.5 * s * s * sqnorm[None, :]) / delta


def log_density(data, x, t, process):
    """``log P_t^e(x)`` straight from the Gaussian mixture formula (scipy logsumexp)."""
    s, delta = process.s(t), process.delta(t)
    sq = ((x[:, None, :] - s * data[None, :, :]) ** 2).sum(-1)
    n, d = data.shape
    return (scipy.special.logsumexp(-sq / (2 * delta), axis=1) - math.log(n)
            - 0.5 * d * math.log(2 * math.pi * delta))


def posterior(data, x, t, process):
    """Denoiser ``<a>``, score ``(s <a> - x)/Delta``, participation and nearest point, by distances."""
    s, delta = process.s(t), process.delta(t)
    sq = ((x[:, None, :] - s * data[None, :, :]) ** 2).sum(-1)
    logw = -sq / (2 * delta)
    w = np.exp(logw - scipy.special.logsumexp(logw, axis=1, keepdims=True))
    mean = w @ data
    return mean, (s * mean - x) / delta, (w**2).sum(1), sq.argmin(1)


def sampler_initial_states(data, process, times, n_traj, seed, group_size, init="marginal"):
    """The states ``backward_sample`` draws at ``times[0]``, group by group.

    Group ``j`` uses ``SeedSequence(seed, spawn_key=(j,))``: ``nu`` then ``z``
    (``init="gaussian"`` draws ``nu`` too, and keeps ``sqrt(Delta) z``).
    """
    n, d = data.shape
    s0 = float(np.asarray(process.s(times))[0])  # evaluated on the grid, as the sampler does
    d0 = float(np.asarray(process.delta(times))[0])
    out = np.empty((n_traj, d))
    for j, i0 in enumerate(range(0, n_traj, group_size)):
        size = min(group_size, n_traj - i0)
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(j,)))
        nu = rng.integers(0, n, size=size)
        z = rng.standard_normal((size, d))
        out[i0:i0 + size] = math.sqrt(d0) * z if init == "gaussian" else s0 * data[nu] + math.sqrt(d0) * z
    return out


def backward_sampler(data, process, times, n_traj, seed, ode=False, x0=None, init="marginal"):
    """Plain NumPy Euler–Maruyama with the exact empirical score, the sampler's random numbers.

    One group of ``n_traj`` trajectories (``group_size = n_traj``): the draw
    order of :mod:`diffusion.sampler` is ``nu``, ``z`` for the start (made,
    and discarded, also when ``x0`` is given), then one ``(1, B, d)``
    standard-normal block per step. Returns the end states and the nearest
    data point ``argmin_mu |x - s a_mu|`` at every grid time ``(K+1, B)``.
    """
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(0,)))
    n, d = data.shape
    s0, d0 = process.s(times[0]), process.delta(times[0])
    nu = rng.integers(0, n, size=n_traj)
    z = rng.standard_normal((n_traj, d))
    x = math.sqrt(d0) * z if init == "gaussian" else s0 * data[nu] + math.sqrt(d0) * z
    if x0 is not None:
        x = np.array(x0, dtype=np.float64)
    k_rate, g2 = process.drift_rate, process.noise_variance
    c2 = g2 * (0.5 if ode else 1.0)
    path = []
    for k in range(len(times) - 1):
        t, h = times[k], times[k] - times[k + 1]
        s, delta = process.s(t), process.delta(t)
        logw = _posterior_log_weights(data, x, s, delta)
        path.append(logw.argmax(1))
        w = np.exp(logw - scipy.special.logsumexp(logw, axis=1, keepdims=True))
        score = (s * (w @ data) - x) / delta
        xi = rng.standard_normal((1, n_traj, d))[0] if not ode else 0.0
        x = x + h * (k_rate * x + c2 * score) + (0.0 if ode else math.sqrt(g2 * h) * xi)
    s, delta = process.s(times[-1]), process.delta(times[-1])
    path.append(_posterior_log_weights(data, x, s, delta).argmax(1))
    return x, np.array(path)


def heun_delta_moments(process, times, ode):
    """Exact law of stochastic Heun for one data point a (linear drift): y_end = A y0 + b a + noise.

    Drift ``alpha_t y + beta_t a`` with ``alpha = k - c2/Delta``, ``beta = c2 s/Delta``.
    Returns ``(A, b, v)``, ``v`` the variance the noise adds per component.
    """
    k, g2 = process.drift_rate, process.noise_variance
    c2 = g2 * (0.5 if ode else 1.0)
    A, b, v = 1.0, 0.0, 0.0
    for t0, t1 in zip(times[:-1], times[1:]):
        h = t0 - t1
        al0, al1 = k - c2 / process.delta(t0), k - c2 / process.delta(t1)
        be0, be1 = c2 * process.s(t0) / process.delta(t0), c2 * process.s(t1) / process.delta(t1)
        f = 1.0 + 0.5 * h * (al0 + al1 + h * al1 * al0)
        A, b = f * A, f * b + 0.5 * h * (be0 + be1 + h * al1 * be0)
        v = f * f * v + (0.0 if ode else g2 * h * (1.0 + 0.5 * h * al1) ** 2)
    return A, b, v


def excess_entropy_values(data, times, process, nu, z):
    """Per-time reference of ``excess_entropy``: x = s a_nu + sqrt(Delta) z, distances, logsumexp.

    Returns ``v_i(t)/d = (logsumexp_mu(-|x - s a_mu|^2/(2 Delta)) + |z|^2/2)/d``, shape (M, T).
    """
    d = data.shape[1]
    out = np.empty((nu.shape[0], len(times)))
    for k, t in enumerate(times):
        s, delta = process.s(t), process.delta(t)
        x = s * data[nu] + math.sqrt(delta) * z
        sq = (x * x).sum(1)[:, None] + s * s * (data * data).sum(1)[None, :] - 2 * s * x @ data.T
        out[:, k] = (scipy.special.logsumexp(-sq / (2 * delta), axis=1) + 0.5 * (z * z).sum(1)) / d
    return out


def gm_excess_entropy_explicit(times, n, d, mu_tilde, sigma, seed, n_samples):
    """``gm_excess_entropy_finite`` with the d-vectors rebuilt from the same draws.

    Sample i's stream (documented order): g1, z1, z2; chi2_{d-1}; chi2_{d-2}; eta (3, n-1);
    chi2_{d-3} (n-1); uniforms (n-1) < 1/2 = other class. The vectors are placed on the
    coordinate axes (e1 = m/|m|, e2, e3; the orthogonal part of each h_mu on e4), which is
    the projection the function claims; then x, a_mu and the log-sum-exp are plain NumPy.
    """
    root = np.random.SeedSequence(seed)
    out = np.empty((n_samples, len(times)))
    m = np.zeros(d)
    m[0] = mu_tilde * math.sqrt(d)
    for i in range(n_samples):
        rng = np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(i,)))
        g1, z1, z2 = rng.standard_normal(3)
        g = np.zeros(d)
        g[:2] = g1, math.sqrt(rng.chisquare(d - 1))
        z = np.zeros(d)
        z[:3] = z1, z2, math.sqrt(rng.chisquare(d - 2))
        eta = rng.standard_normal((3, n - 1))
        h = np.zeros((n - 1, d))
        h[:, :3] = eta.T
        h[:, 3] = np.sqrt(rng.chisquare(d - 3, n - 1))
        sign = np.where(rng.random(n - 1) < 0.5, -1.0, 1.0)
        a_own = m + sigma * g
        others = sign[:, None] * m[None, :] + sigma * h
        for k, t in enumerate(times):
            s, delta = math.exp(-t), -math.expm1(-2 * t)
            x = s * a_own + math.sqrt(delta) * z
            u = 0.5 * z @ z - ((x - s * others) ** 2).sum(1) / (2 * delta)
            out[i, k] = scipy.special.logsumexp(np.append(u, 0.0)) / d
    return out


def gm_phi_quadrature(t, mu, sigma, d):
    """Dynamical-regimes eq. 6 by adaptive quadrature of the original integrand (OU, T = 1)."""
    m = mu * math.sqrt(d)
    delta = 1 - math.exp(-2 * t)
    gamma = delta + sigma**2 * math.exp(-2 * t)
    u = m * math.exp(-t)

    def gauss(y, c):
        return math.exp(-(y - c) ** 2 / (2 * gamma)) / math.sqrt(2 * math.pi * gamma)

    def integrand(y):
        gp, gm = gauss(y, u), gauss(y, -u)
        return (gp * gp + gm * gm) / (gp + gm) if gp + gm > 0 else 0.0

    width = 40 * math.sqrt(gamma)
    return 0.5 * scipy.integrate.quad(integrand, -u - width, u + width, points=sorted([-u, u]),
                                      epsabs=1e-13, epsrel=1e-12, limit=500)[0]


def curie_weiss_magnetisation_law(d, beta):
    """Law of ``M = sum_j y_j`` under ``exp(beta M^2/(2d))`` on ``{-1, 1}^d``, by enumeration."""
    probs = {}
    for spins in itertools.product([-1, 1], repeat=d):
        m = sum(spins)
        probs[m] = probs.get(m, 0.0) + math.exp(beta * m * m / (2 * d))
    z = sum(probs.values())
    return {m: p / z for m, p in probs.items()}


# ---------------------------------------------------------------------------
# hopfield
# ---------------------------------------------------------------------------


def hopfield_energy(xi, x, beta):
    """E(x) = -1/beta logsumexp(beta Xi x) + |x|^2/2 (Ramsauer eq. 2 without constant)."""
    beta = np.broadcast_to(beta, (x.shape[0],))
    return -scipy.special.logsumexp(beta[:, None] * (x @ xi.T), axis=1) / beta + 0.5 * (x * x).sum(1)


def hopfield_update(xi, x, beta):
    """``x <- Xi^T softmax(beta Xi x)``, in the dtype of the inputs (in-place softmax)."""
    beta = np.broadcast_to(np.asarray(beta, dtype=x.dtype), (x.shape[0],))
    logits = x @ xi.T
    logits *= beta[:, None]
    logits -= logits.max(axis=1, keepdims=True)
    np.exp(logits, out=logits)
    logits /= logits.sum(axis=1, keepdims=True)
    return logits @ xi


def hopfield_retrieve(xi, x, beta, tol, max_iter):
    """Whole batch iterated; each row frozen (and its iteration count kept) once its change <= tol."""
    x = x.copy()
    iters = np.zeros(x.shape[0], dtype=int)
    active = np.ones(x.shape[0], dtype=bool)
    for it in range(1, max_iter + 1):
        new = hopfield_update(xi, x, beta)
        change = np.abs(new - x).max(axis=1)
        x[active] = new[active]
        iters[active] = it
        active &= change > tol
        if not active.any():
            break
    return x, iters


def classical_sync(w, s, max_steps):
    """s <- sign(W s) (keep the spin on a zero field) until fixed point or 2-cycle."""
    s = s.copy()
    older = None
    for step in range(1, max_steps + 1):
        h = s @ w
        new = np.where(h > 0, 1.0, np.where(h < 0, -1.0, s))
        if np.array_equal(new, s):
            return new, step, True, False
        if older is not None and np.array_equal(new, older):
            return new, step, False, True
        older, s = s, new
    return s, max_steps, False, False


_MASK64 = (1 << 64) - 1


def _splitmix64(state):
    """One SplitMix64 step on Python ints: ``(new_state, output)`` (Steele, Lea & Flood 2014)."""
    state = (state + 0x9E3779B97F4A7C15) & _MASK64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return state, z ^ (z >> 31)


def classical_async(w, s, seeds, max_sweeps):
    """Random sequential sign dynamics, one query at a time, fields recomputed from scratch.

    Query ``b`` draws its site order per sweep from SplitMix64 seeded with
    ``seeds[b]`` (Fisher–Yates from the last site down, ``j = r mod (i + 1)``);
    a site takes the sign of its field ``(W s)_i``, kept on a zero field. Stops
    after a sweep without a flip. Returns ``(states, sweeps, converged)``.
    """
    states = np.array(s, dtype=np.float64)
    n_queries, n = states.shape
    sweeps = np.zeros(n_queries, dtype=np.int64)
    converged = np.zeros(n_queries, dtype=bool)
    for b in range(n_queries):
        spins = states[b]
        rng = int(seeds[b])
        for sweep in range(1, max_sweeps + 1):
            order = list(range(n))
            for i in range(n - 1, 0, -1):
                rng, r = _splitmix64(rng)
                j = r % (i + 1)
                order[i], order[j] = order[j], order[i]
            flips = 0
            for i in order:
                field = w[i] @ spins
                if field != 0.0 and np.sign(field) != spins[i]:
                    spins[i] = np.sign(field)
                    flips += 1
            sweeps[b] = sweep
            if flips == 0:
                converged[b] = True
                break
    return states, sweeps, converged


def knn_reference(queries, train, k):
    """Exact k-NN by brute force: all squared differences summed in float64, stable sort (ties by index)."""
    queries = np.asarray(queries, dtype=np.float64)
    train = np.asarray(train, dtype=np.float64)
    sq = ((queries[:, None, :] - train[None, :, :]) ** 2).sum(axis=2)
    order = np.argsort(sq, axis=1, kind="stable")[:, :k]
    return np.sqrt(np.take_along_axis(sq, order, axis=1)), order


def smoothed_empirical_denoiser_reference(data, x, s, delta, h):
    """``sum_mu w_mu [a_mu + s h^2 (x - s a_mu) / Delta']``, ``w = softmax(-|x - s a|^2 / (2 Delta'))``.

    ``s`` and ``delta`` are scalars or one value per row of ``x``.
    """
    data = np.asarray(data, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    s = np.broadcast_to(np.asarray(s, dtype=np.float64).reshape(-1, 1), (x.shape[0], 1))
    delta = np.broadcast_to(np.asarray(delta, dtype=np.float64).reshape(-1, 1), (x.shape[0], 1))
    delta_eff = delta + s**2 * h**2
    sq = ((x[:, None, :] - s[:, :, None] * data[None, :, :]) ** 2).sum(axis=2)
    logw = -sq / (2.0 * delta_eff)
    w = np.exp(logw - scipy.special.logsumexp(logw, axis=1, keepdims=True))
    return w @ data + (s * h**2 / delta_eff) * (x - s * (w @ data))


def gaussian_denoiser_reference(mean, cov, x, s, delta):
    """``m + s C (s^2 C + Delta I)^{-1} (x - s m)`` by a linear solve, one row at a time."""
    mean = np.asarray(mean, dtype=np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    s = np.broadcast_to(np.asarray(s, dtype=np.float64).reshape(-1), (x.shape[0],))
    delta = np.broadcast_to(np.asarray(delta, dtype=np.float64).reshape(-1), (x.shape[0],))
    eye = np.eye(mean.shape[0])
    return np.array([mean + s[i] * cov @ np.linalg.solve(s[i] ** 2 * cov + delta[i] * eye,
                                                         x[i] - s[i] * mean)
                     for i in range(x.shape[0])])


def memorisation_ratio_reference(samples, train):
    """``d_1 / d_2`` per sample from the full distance matrix (ratio 0 where ``d_1 = 0``)."""
    dist = np.sqrt(((np.asarray(samples, float)[:, None, :]
                     - np.asarray(train, float)[None, :, :]) ** 2).sum(axis=2))
    two = np.sort(dist, axis=1)[:, :2]
    return np.where(two[:, 0] > 0, two[:, 0] / np.where(two[:, 1] > 0, two[:, 1], 1.0), 0.0)


def line_map_retrieves(levels, beta, n_features, signal_norm, window, max_iter=200000, tol=1e-14):
    """Iterate the line map ``m <- <q>_kappa / r_1`` (target at ``q = r_1``) from ``m = 1``.

    Plain NumPy reference of :func:`hopfield.criterion.level_criteria`: the
    Gibbs mean over the levels and the target at ``kappa = beta N m`` with
    scipy's log-sum-exp, iterated until it stops moving; retrieved when the
    fixed point lies within ``window`` of 1.
    """
    levels = np.asarray(levels, dtype=np.float64)
    values = np.concatenate([[signal_norm], levels])
    m = 1.0
    for _ in range(max_iter):
        log_w = beta * n_features * m * values
        w = np.exp(log_w - scipy.special.logsumexp(log_w))
        new = float(np.dot(w, values)) / signal_norm
        if abs(new - m) < tol:
            m = new
            break
        m = new
    return abs(m - 1.0) < window, m


def first_step_log_weight(patterns, targets, beta):
    """``ln w_t`` of each target's own weight at the first update from ``x = xi_t`` (full softmax)."""
    patterns = np.asarray(patterns, dtype=np.float64)
    x = patterns[targets]
    log_weights = beta * x @ patterns.T
    return log_weights[np.arange(len(targets)), targets] - scipy.special.logsumexp(log_weights, axis=1)
