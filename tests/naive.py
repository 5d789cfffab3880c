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
