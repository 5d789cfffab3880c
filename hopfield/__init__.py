"""Modern and classical Hopfield networks, exponential capacity, and the bridge to diffusion.

Modules
-------
- :mod:`hopfield.patterns`  pattern ensembles (spherical, Gaussian, binary, user arrays), memory guard;
- :mod:`hopfield.ensembles` overlap entropies of the ensembles and their REMs (``overlap_rem``);
- :mod:`hopfield.modern`    modern Hopfield energy, update, retrieval (deterministic and Langevin);
- :mod:`hopfield.classical` Hebbian network, sign dynamics, capacity scan and ``alpha_c``;
- :mod:`hopfield.capacity`  ``alpha_1(beta)`` from the auxiliary REM, finite-N theory, simulation;
- :mod:`hopfield.streaming` patterns regenerated block by block from their seed, streamed dynamics;
- :mod:`hopfield.criterion` exact finite-N overlap laws, REM-level retrieval and signal criteria;
- :mod:`hopfield.finite_size` ``alpha_{1/2}(N)``, finite-size fits with chi^2, extrapolation;
- :mod:`hopfield.threshold_series` threshold series of both simulations over N;
- :mod:`hopfield.bridge`    identities with diffusion, condensation, capacity vs collapse, retrieval
  (the only module importing :mod:`diffusion`; not imported here);
- :mod:`hopfield.experiments`, :mod:`hopfield.plots` registered experiments and their figures.

Loads: ``alpha = P/N`` for the classical network (``load_ratio``) and
``alpha = ln(P)/N`` for the modern one (``load_exponent``, ``P = e^{alpha N}``).
"""

from hopfield.capacity import alpha_1, capacity_simulation, estimate_threshold, finite_size_alpha_1
from hopfield.ensembles import dominant_overlap, overlap_entropy, overlap_rem
from hopfield.classical import (
    ClassicalCapacityCurve,
    ClassicalThreshold,
    classical_capacity,
    classical_retrieve,
    classical_threshold,
    hebbian_weights,
)
from hopfield.modern import (
    RetrievalMeasures,
    RetrievalResult,
    hopfield_energy,
    hopfield_gradient,
    hopfield_update,
    retrieval_measures,
    retrieve,
    stochastic_retrieve,
)
from hopfield.criterion import criterion_simulation
from hopfield.finite_size import extrapolate
from hopfield.patterns import random_patterns
from hopfield.threshold_series import run_series

__all__ = [
    "random_patterns",
    "overlap_entropy",
    "overlap_rem",
    "dominant_overlap",
    "hopfield_energy",
    "hopfield_gradient",
    "hopfield_update",
    "retrieve",
    "stochastic_retrieve",
    "retrieval_measures",
    "RetrievalResult",
    "RetrievalMeasures",
    "hebbian_weights",
    "classical_retrieve",
    "classical_capacity",
    "classical_threshold",
    "ClassicalCapacityCurve",
    "ClassicalThreshold",
    "alpha_1",
    "finite_size_alpha_1",
    "capacity_simulation",
    "estimate_threshold",
    "criterion_simulation",
    "extrapolate",
    "run_series",
]
