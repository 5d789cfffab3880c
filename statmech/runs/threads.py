"""One threading policy for every run the run system executes: BLAS gets one thread.

Numba's parallel kernels and OpenBLAS each start one thread per core. Run at
once in one process they compete for the same cores, and OpenBLAS's threads
spin while they wait: on a 2-core machine that is also busy with other work, a
small in-process scan was measured 27x slower than with two single-threaded
worker processes (issue 9). And OpenBLAS's SkylakeX kernels split a product
differently for 1 and 2 threads, so the last bit of a result depended on the
BLAS thread count.

So, wherever a run executes (``statmech run``, ``statmech scan --jobs 1``,
pool and dask workers, :meth:`ExperimentSpec.run
<statmech.runs.registry.ExperimentSpec.run>` from Python):

- BLAS (every OpenBLAS/MKL loaded, NumPy's and SciPy's, which Numba's ``np.dot``
  calls) runs **one** thread, set at run time with ``threadpoolctl`` and
  restored afterwards;
- Numba's parallel kernels use ``NUMBA_NUM_THREADS`` threads: every core
  in-process, one in each worker process (which also get
  ``OPENBLAS_NUM_THREADS=1`` and friends in their environment).

Results then depend only on the seed; the library functions called directly
keep BLAS's own threading.
"""

from __future__ import annotations

import contextlib
import threading

__all__ = ["single_threaded_blas", "blas_threads", "WORKER_ENV"]

#: Environment of worker processes: one Numba thread, one BLAS/OpenMP thread.
WORKER_ENV = {
    "NUMBA_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}

_lock = threading.Lock()
_depth = 0
_limiter = None


def _controller():
    # SciPy's OpenBLAS (used by scipy.linalg and by Numba's np.dot) is loaded on
    # first import of its BLAS wrappers: load it before listing the libraries.
    import scipy.linalg.cython_blas  # noqa: F401
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@contextlib.contextmanager
def single_threaded_blas():
    """Run the body with every loaded BLAS limited to one thread (re-entrant, process-wide).

    The outermost entry lists the BLAS libraries (~0.5 ms) and sets their
    thread count; nested entries cost nothing, so a scan enters once around
    all its in-process points.
    """
    global _depth, _limiter
    with _lock:
        if _depth == 0:
            _limiter = _controller().limit(limits=1, user_api="blas")
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _limiter is not None:
                _limiter.restore_original_limits()
                _limiter = None


def blas_threads() -> dict[str, int]:
    """``library path -> threads`` of every loaded BLAS (what the policy set)."""
    return {info["filepath"]: info["num_threads"] for info in _controller().info() if info["user_api"] == "blas"}
