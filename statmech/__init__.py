"""statmech: shared Numba kernels for the statistical mechanics of diffusion and memory.

Layers
------
- :mod:`statmech.lse`       log-sum-exp and softmax over an axis;
- :mod:`statmech.gibbs`     Gibbs averages over patterns with energies linear in the state;
- :mod:`statmech.rem`       random energy model: sampled, quenched, theory;
- :mod:`statmech.langevin`  SDE / probability-flow integrators;
- :mod:`statmech.meanfield` self-consistency solvers, branches, susceptibility, exponents.

``statmech`` never imports :mod:`hopfield` or :mod:`diffusion`.
"""

__version__ = "0.1.0"

from statmech.lse import logsumexp, softmax
from statmech.gibbs import GibbsAverage, GibbsAccumulator, gibbs_average

__all__ = [
    "__version__",
    "logsumexp",
    "softmax",
    "GibbsAverage",
    "GibbsAccumulator",
    "gibbs_average",
]
