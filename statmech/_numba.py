"""The one place that sets how statmech compiles its Numba kernels.

Every kernel in the package is decorated with :data:`kernel`, :data:`pkernel`
or :data:`callable_kernel` from here; no module hard-codes ``njit`` options
(``tests/test_policy.py`` greps for strays).

``fastmath`` uses only flags that keep NaN and inf semantics: a log-sum-exp
carries ``-inf`` for empty terms and ``np.isnan`` must keep working (numba
issues 9383, 6217). ``reassoc`` lets LLVM vectorise reductions, so sums may
differ from a strictly ordered sum at round-off level; tests allow for that.
``afn`` (approximate functions) is left out: the log-sum-exp contract is
1e-12 relative against SciPy.
"""

from __future__ import annotations

from numba import njit

FASTMATH = {"nsz", "arcp", "contract", "reassoc"}

_COMMON = dict(nogil=True, error_model="numpy", fastmath=FASTMATH)

#: Serial, cached leaf kernel.
kernel = njit(cache=True, **_COMMON)

#: Parallel (``prange``) kernel. Results must not depend on the thread count:
#: work is split into fixed blocks merged in a fixed order.
pkernel = njit(cache=True, parallel=True, **_COMMON)

#: Serial kernel whose arithmetic order matters (Cody–Waite range reduction,
#: compensated sums): same as :data:`kernel` without ``reassoc``, which would
#: let LLVM fold ``(x - k*hi) - k*lo`` into ``x - k*(hi+lo)``.
ordered_kernel = njit(
    cache=True, nogil=True, error_model="numpy", fastmath=FASTMATH - {"reassoc"}
)

#: Kernel taking a jitted function argument (for example a drift). Such
#: kernels miss Numba's cache (pynndescent #226), so caching is off.
callable_kernel = njit(cache=False, **_COMMON)

__all__ = ["FASTMATH", "kernel", "pkernel", "ordered_kernel", "callable_kernel"]
