"""How much memory this process may still take, and the one guard every big allocation uses.

Library functions that allocate arrays sized by their arguments (pattern
matrices ``P = e^{alpha N}``, Gaussian-mixture data sets ``n x d``) and the run
system (an experiment's estimated peak memory) call :func:`check_memory`
*before* allocating, so a request that cannot fit is refused at once with a
message saying how much it needs, how much there is, and what to lower, instead
of a ``MemoryError`` traceback (or the OOM killer) after minutes of work.

The available memory is the smallest of:

- ``MemAvailable`` of ``/proc/meminfo`` (physical memory if it is absent);
- the memory left under this process's cgroup limit (``memory.max`` minus
  ``memory.current`` for cgroup v2, ``memory.limit_in_bytes`` minus
  ``memory.usage_in_bytes`` for v1): SLURM and container limits live there;
- the address space left under ``RLIMIT_AS`` (``ulimit -v``).
"""

from __future__ import annotations

import math
import os

__all__ = ["InsufficientMemoryError", "available_memory", "format_bytes", "check_memory"]


class InsufficientMemoryError(MemoryError, ValueError):
    """A request would need more memory than is available (raised before allocating).

    It is a :class:`MemoryError` (what it is about) and a :class:`ValueError`
    (an argument too large: callers that refuse bad input with ``ValueError``
    keep catching it).
    """


_UNLIMITED = 1 << 62


def _read_int(path: str) -> int | None:
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except OSError:
        return None
    if not text or text == "max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _meminfo_available() -> int:
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8 << 30


def _cgroup_room() -> int:
    """Bytes left under this process's cgroup memory limit (a huge number if none)."""
    room = _UNLIMITED
    try:
        with open("/proc/self/cgroup") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return room
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        if controllers == "":  # cgroup v2
            base = "/sys/fs/cgroup" + path
            limit = _read_int(os.path.join(base, "memory.max"))
            used = _read_int(os.path.join(base, "memory.current"))
        elif "memory" in controllers.split(","):  # cgroup v1
            base = "/sys/fs/cgroup/memory" + path
            if not os.path.isdir(base):
                base = "/sys/fs/cgroup/memory"
            limit = _read_int(os.path.join(base, "memory.limit_in_bytes"))
            used = _read_int(os.path.join(base, "memory.usage_in_bytes"))
        else:
            continue
        if limit is not None and limit < _UNLIMITED:
            room = min(room, max(0, limit - (used or 0)))
    return room


def _address_space_room() -> int:
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return _UNLIMITED
    if soft in (resource.RLIM_INFINITY, -1):
        return _UNLIMITED
    try:
        with open("/proc/self/statm") as handle:
            pages = int(handle.read().split()[0])
        used = pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return max(0, soft - used)


def available_memory() -> int:
    """Bytes this process can still allocate: ``MemAvailable``, cgroup and ``ulimit -v`` room, whichever is least."""
    return int(min(_meminfo_available(), _cgroup_room(), _address_space_room()))


def format_bytes(n_bytes: float) -> str:
    """``1536 -> "1.5 KiB"``; infinite or NaN sizes read "an unbounded amount of memory"."""
    if not math.isfinite(n_bytes):
        return "an unbounded amount of memory"
    units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
    value = float(n_bytes)
    for unit in units:
        if value < 1024 or unit == units[-1]:
            if unit == units[-1] and value >= 1024:
                return f"{n_bytes:.3g} bytes"
            return f"{value:.3g} {unit}"
        value /= 1024
    return f"{n_bytes:.3g} bytes"


def check_memory(needed, what: str, *, hint: str = "", memory_limit=None, fraction: float = 1.0) -> int:
    """Refuse (before allocating) a request of ``needed`` bytes that does not fit.

    Parameters
    ----------
    needed : int or float
        Bytes the request would take (a float such as ``8 e^{alpha N} N`` may be
        astronomically large or infinite).
    what : str
        What would be allocated, for the message (``"gaussian_mixture: n x d data set"``).
    hint : str
        What to lower (``"lower n or d"``), appended to the message.
    memory_limit : int, optional
        Bytes allowed; default ``fraction`` of :func:`available_memory`.
    fraction : float
        Share of the available memory one request may take.

    Returns
    -------
    int
        ``needed`` as an int.

    Raises
    ------
    InsufficientMemoryError
        (a ``MemoryError`` and a ``ValueError``) saying how much is needed and
        how much is allowed.
    """
    if memory_limit is None:
        limit = int(fraction * available_memory())
        allowed = "available" if fraction == 1.0 else f"allowed ({fraction:g} of the available memory)"
    else:
        limit = int(memory_limit)
        allowed = "allowed (memory_limit)"
    needed = float(needed)
    if not needed <= limit:
        tail = f"; {hint}" if hint else ""
        raise InsufficientMemoryError(
            f"{what} would need {format_bytes(needed)} ({needed:.4g} bytes), more than the "
            f"{format_bytes(limit)} {allowed}{tail}"
        )
    return int(needed)
