"""Plain NumPy/SciPy references for the kernels (in the spirit of STUMPY's tests/naive.py).

Each function here is the textbook formula, written for clarity, with no
chunking, no streaming and no custom exp.
"""

import numpy as np
import scipy.special


def gibbs_reference(patterns, states, beta, coupling=1.0, offsets=None):
    """``log Z``, mean, participation and argmax from the full B x n log-weight matrix."""
    patterns = np.asarray(patterns, dtype=np.float64)
    states = np.asarray(states, dtype=np.float64)
    beta = np.broadcast_to(np.asarray(beta, dtype=np.float64), (states.shape[0],))
    offsets = np.zeros(patterns.shape[0]) if offsets is None else np.asarray(offsets, dtype=np.float64)
    log_weights = beta[:, None] * (coupling * states @ patterns.T + offsets[None, :])
    log_z = scipy.special.logsumexp(log_weights, axis=1)
    weights = np.exp(log_weights - log_z[:, None])
    return log_z, weights @ patterns, (weights**2).sum(axis=1), log_weights.argmax(axis=1), log_weights


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
