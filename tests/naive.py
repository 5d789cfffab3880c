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
