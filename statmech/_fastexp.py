"""A vectorisable ``exp`` for non-positive arguments, for the hot loops.

Numba here has no SVML, so ``math.exp`` is a scalar libm call (~7 ns). The
log-sum-exp loops only ever exponentiate shifted energies ``x - max <= 0``,
so this module implements ``exp`` on ``[-inf, 0]`` with branch-free code
that LLVM vectorises:

1. range reduction ``x = k ln2 + r``, ``|r| <= ln2/2`` (Cody–Waite split of
   ln2 so ``r`` is exact to a few ulp);
2. ``exp(r)`` by its Taylor polynomial (Estrin's scheme);
3. ``2^k`` assembled from integer bits, in two halves so arguments down to
   ``-inf`` underflow gracefully to 0 instead of wrapping.

Measured relative error against ``numpy.exp`` is about 1 ulp (see
``tests/test_fastexp.py``). Positive arguments are clamped to 0 (result 1);
callers guarantee they never pass any. NaN is not allowed on input
(public functions reject it before a kernel runs).
"""

from __future__ import annotations

import llvmlite.ir as ir
import numpy as np
from numba import types
from numba.extending import intrinsic, overload

from statmech._numba import ordered_kernel

_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LOWEST = -746.0  # exp(-746) underflows to 0 in float64


_ROUNDING_SHIFT = 6755399441055744.0  # 1.5 * 2**52: adding it rounds to an integer


@intrinsic
def _int64_bits_as_float64(typingctx, bits):
    """Reinterpret the 64 bits of an int64 as a float64 (no conversion)."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@intrinsic
def _float64_bits_as_int64(typingctx, value):
    """Reinterpret the 64 bits of a float64 as an int64 (no conversion)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@ordered_kernel
def exp_nonpositive(x):
    """``exp(x)`` for ``x <= 0`` (float64), vectorisable, within ~1 ulp (kernel).

    Cody–Waite range reduction ``x = k ln 2 + r`` and the degree-13 Taylor
    polynomial of ``e^r`` (module docstring); subnormal results underflow
    gracefully; ``exp(-inf) = 0``.

    Parameters
    ----------
    x : float
        ``<= 0`` (larger values are clamped to 0).

    Returns
    -------
    float
    """
    x = min(max(x, _LOWEST), 0.0)
    # k = round(x / ln2) without a float->int conversion (AVX2 has none for
    # int64): the rounding shift puts k in the low mantissa bits.
    shifted = x * _LOG2E + _ROUNDING_SHIFT
    k = shifted - _ROUNDING_SHIFT
    k_int = _float64_bits_as_int64(shifted) - _float64_bits_as_int64(_ROUNDING_SHIFT)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    # Degree-13 Taylor polynomial by Estrin's scheme (short dependency chain);
    # truncation 0.347^14/14! < 4e-18.
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    c01 = 1.0 + r
    c23 = 0.5 + r * (1.0 / 6.0)
    c45 = 1.0 / 24.0 + r * (1.0 / 120.0)
    c67 = 1.0 / 720.0 + r * (1.0 / 5040.0)
    c89 = 1.0 / 40320.0 + r * (1.0 / 362880.0)
    c1011 = 1.0 / 3628800.0 + r * (1.0 / 39916800.0)
    low = (c01 + r2 * c23) + r4 * (c45 + r2 * c67)
    c1213 = 1.0 / 479001600.0 + r * (1.0 / 6227020800.0)
    high = (c89 + r2 * c1011) + r4 * c1213
    p = low + r8 * high
    # 2**k in two halves so k down to -1076 underflows gracefully to 0 (a
    # select instead would stop LLVM from vectorising the loop: measured 3x slower).
    k_half = k_int >> 1
    k_rest = k_int - k_half
    scale_a = _int64_bits_as_float64((k_half + 1023) << 52)
    scale_b = _int64_bits_as_float64((k_rest + 1023) << 52)
    return p * scale_a * scale_b


_LOG2E_F32 = np.float32(1.4426950408889634)
_LN2_HI_F32 = np.float32(0.693145751953125)  # 12 significant bits: k * hi is exact
_LN2_LO_F32 = np.float32(1.428606765330187045e-06)
_ROUNDING_SHIFT_F32 = np.float32(12582912.0)  # 1.5 * 2**23
_LOWEST_F32 = np.float32(-104.0)  # exp(-104) underflows to 0 in float32
_ZERO_F32 = np.float32(0.0)
_ONE_F32 = np.float32(1.0)
_C2_F32 = np.float32(0.5)
_C3_F32 = np.float32(1.0 / 6.0)
_C4_F32 = np.float32(1.0 / 24.0)
_C5_F32 = np.float32(1.0 / 120.0)
_C6_F32 = np.float32(1.0 / 720.0)
_C7_F32 = np.float32(1.0 / 5040.0)


@intrinsic
def _int32_bits_as_float32(typingctx, bits):
    """Reinterpret the 32 bits of an int32 as a float32."""
    sig = types.float32(types.int32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return sig, codegen


@intrinsic
def _float32_bits_as_int32(typingctx, value):
    """Reinterpret the 32 bits of a float32 as an int32."""
    sig = types.int32(types.float32)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return sig, codegen


@ordered_kernel
def exp_nonpositive_f32(x):
    """``exp(x)`` for float32 ``x <= 0``, 8 lanes wide, about 1 float32 ulp (kernel).

    Same scheme as :func:`exp_nonpositive` with a degree-7 polynomial
    (truncation ``0.347^8/8! < 6e-9``, below float32's 6e-8 half-ulp).

    Parameters
    ----------
    x : float32
        ``<= 0`` (larger values are clamped to 0).

    Returns
    -------
    float32
    """
    x = min(max(np.float32(x), _LOWEST_F32), _ZERO_F32)
    shifted = x * _LOG2E_F32 + _ROUNDING_SHIFT_F32
    k = shifted - _ROUNDING_SHIFT_F32
    k_int = _float32_bits_as_int32(shifted) - _float32_bits_as_int32(_ROUNDING_SHIFT_F32)
    r = (x - k * _LN2_HI_F32) - k * _LN2_LO_F32
    r2 = r * r
    r4 = r2 * r2
    low = (_ONE_F32 + r) + r2 * (_C2_F32 + r * _C3_F32)
    high = (_C4_F32 + r * _C5_F32) + r2 * (_C6_F32 + r * _C7_F32)
    p = low + r4 * high
    k_half = k_int >> np.int32(1)
    k_rest = k_int - k_half
    scale_a = _int32_bits_as_float32((k_half + np.int32(127)) << np.int32(23))
    scale_b = _int32_bits_as_float32((k_rest + np.int32(127)) << np.int32(23))
    return p * scale_a * scale_b


def exp_nonpositive_like(x):
    """``exp(x)`` for ``x <= 0`` in the precision of ``x`` (float32 or float64).

    Only callable from compiled code: it dispatches at compile time to
    :func:`exp_nonpositive_f32` or :func:`exp_nonpositive`.

    Parameters
    ----------
    x : float32 or float64
        ``<= 0``.

    Returns
    -------
    float32 or float64
    """
    raise NotImplementedError("exp_nonpositive_like is only available inside Numba kernels")


@overload(exp_nonpositive_like)
def _exp_nonpositive_like_overload(x):
    if x == types.float32:
        return lambda x: exp_nonpositive_f32(x)
    if isinstance(x, types.Float):
        return lambda x: exp_nonpositive(x)
    return None


def cast_like(value, like):
    """``value`` converted to the float type of ``like`` (compiled code only).

    Parameters
    ----------
    value : number
    like : float32 or float64
        Its type is the target.

    Returns
    -------
    float32 or float64
    """
    raise NotImplementedError("cast_like is only available inside Numba kernels")


@overload(cast_like)
def _cast_like_overload(value, like):
    if like == types.float32:
        return lambda value, like: np.float32(value)
    if isinstance(like, types.Float):
        return lambda value, like: np.float64(value)
    return None


__all__ = ["exp_nonpositive", "exp_nonpositive_f32", "exp_nonpositive_like", "cast_like"]
