"""What one run of an experiment will need, estimated from its parameters before it starts.

Every registered experiment declares ``resources=`` (see
:func:`statmech.runs.registry.experiment`): a function of the resolved
parameters returning :class:`Resources`, its peak memory (and which
parameters drive it) and, where a cost model exists, a rough wall time. The
run system calls it before anything is allocated:

- :meth:`~statmech.runs.registry.ExperimentSpec.run` refuses a point whose
  memory estimate exceeds the memory available to the process
  (:func:`statmech.memory.available_memory`: ``MemAvailable``, the cgroup
  limit of a batch job, ``ulimit -v``), with a message naming the parameters to
  lower;
- ``statmech run`` and ``statmech scan`` check every point before the first
  computes, and print the time estimate when it is long.

Times are calibrated on a 2-core AMD EPYC (OpenBLAS ~40 GFLOP/s in float64)
and are meant within a factor of ~3: enough to tell seconds from days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from statmech.memory import check_memory, format_bytes
from statmech.runs.progress import format_seconds

__all__ = ["Resources", "format_seconds", "check_point_memory", "LONG_SECONDS"]

#: Estimated times above this many seconds are printed before a run or scan starts.
LONG_SECONDS = 30.0

#: Interpreter, NumPy and compiled kernels: the floor of every run's peak memory.
BASE_MEMORY = 200 * 2**20


@dataclass(frozen=True)
class Resources:
    """The estimated needs of one run.

    Attributes
    ----------
    memory : float
        Peak memory in bytes beyond :data:`BASE_MEMORY` (the arrays the run allocates).
    memory_driver : str
        What that memory is and which parameters set it, for messages
        (``"the n_data x d data set and its 2^23-overlap blocks (n_data, dims)"``).
    seconds : float or None
        Rough wall time on one core, or ``None`` where no cost model exists.
    time_driver : str
        Which parameters set the time.
    """

    memory: float
    memory_driver: str
    seconds: float | None = None
    time_driver: str = ""

    def __post_init__(self):
        memory = float(self.memory)
        if math.isnan(memory) or memory < 0:
            raise ValueError(f"Resources.memory must be a number of bytes >= 0, got {self.memory!r}")
        object.__setattr__(self, "memory", memory)
        if self.seconds is not None:
            seconds = float(self.seconds)
            if math.isnan(seconds) or seconds < 0:
                raise ValueError(f"Resources.seconds must be >= 0 or None, got {self.seconds!r}")
            object.__setattr__(self, "seconds", seconds)

    @property
    def peak_memory(self) -> float:
        """Bytes the process will hold at its peak, the interpreter included."""
        return self.memory + BASE_MEMORY

    def describe(self) -> str:
        """One line: memory and time with what drives them."""
        text = f"peak memory ~{format_bytes(self.peak_memory)} ({self.memory_driver})"
        if self.seconds is not None:
            text += f", time ~{format_seconds(self.seconds)}"
            if self.time_driver:
                text += f" ({self.time_driver})"
        return text


def check_point_memory(name: str, params, resources: Resources, *, memory_limit=None) -> None:
    """Refuse a run of ``name`` whose estimated peak memory exceeds the memory available.

    Raises :class:`statmech.memory.InsufficientMemoryError` (a ``MemoryError``
    and a ``ValueError``) naming the experiment and what drives the memory
    (the parameters to lower).
    """
    check_memory(
        resources.peak_memory,
        f"experiment {name!r}",
        hint=f"the memory is {resources.memory_driver}; lower those parameters",
        memory_limit=memory_limit,
    )
