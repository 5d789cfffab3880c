"""Memory checks made before a large allocation.

Public functions that allocate work arrays proportional to their input call
:func:`check_bytes` first, so that a request that cannot fit fails at once
with a message naming the sizes, instead of swapping or being killed.
"""

from __future__ import annotations

import math
import os

#: Fraction of the available memory one allocation may take by default.
MEMORY_FRACTION = 0.5


def available_memory() -> int:
    """Bytes of memory available to this process (``MemAvailable``, else physical memory)."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def format_bytes(n_bytes: float) -> str:
    """``n_bytes`` in binary units, three significant digits (``"1.5 GiB"``)."""
    if not math.isfinite(n_bytes):
        return "an unbounded amount of memory"
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.3g} {unit}"
        value /= 1024
    return f"{n_bytes:.3g} bytes"  # pragma: no cover (loop always returns)


def check_bytes(n_bytes: float, what: str, *, memory_limit: int | None = None, hint: str = "") -> int:
    """Raise ``MemoryError`` if ``n_bytes`` exceeds the allowed memory, else return it as an int.

    Parameters
    ----------
    n_bytes : float
        Size of the planned allocation(s).
    what : str
        What would be allocated, for the message (``"a float32 copy of the training set"``).
    memory_limit : int, optional
        Bytes allowed; default :data:`MEMORY_FRACTION` of :func:`available_memory`.
    hint : str
        How to need less, appended to the message.
    """
    if memory_limit is None:
        memory_limit = int(MEMORY_FRACTION * available_memory())
    if not float(n_bytes) <= memory_limit:
        raise MemoryError(
            f"{what} would need {format_bytes(n_bytes)}, more than the {format_bytes(memory_limit)} "
            f"allowed ({MEMORY_FRACTION:.0%} of the available memory)" + (f"; {hint}" if hint else "")
        )
    return int(n_bytes)


__all__ = ["MEMORY_FRACTION", "available_memory", "format_bytes", "check_bytes"]
