"""Diffusion models with the exact empirical score: dynamics, speciation, collapse.

Modules
-------
- :mod:`diffusion.processes`   forward processes ``x_t = s(t) a + sqrt(Delta(t)) z`` (OU, VE, DDPM);
- :mod:`diffusion.score`       exact empirical score, posterior, free energies; population scores;
- :mod:`diffusion.sampler`     backward SDE / probability-flow ODE, nearest neighbour, cloning;
- :mod:`diffusion.speciation`  ``Lambda``, ``t_S``, Gaussian-mixture ``phi(t)``, crossing;
- :mod:`diffusion.collapse`    excess entropy ``f^e(t)`` by Monte Carlo, ``t_C``;
- :mod:`diffusion.gm_theory`   the two-Gaussian (mixture) theory: score, ``phi(t)``, ``t_S``, ``t_C``, ``f(t)``;
- :mod:`diffusion.datasets`    generators, the shipped digits, loaders;
- :mod:`diffusion.equilibrium` pitchfork, susceptibility, exponents, free-energy landscapes;
- :mod:`diffusion.experiments` registered experiments; :mod:`diffusion.plots` their figures.

``diffusion`` builds on :mod:`statmech` (Gibbs kernel, Langevin steps, mean-field solver) and
never imports :mod:`hopfield`.
"""

from diffusion.collapse import CollapseTime, ExcessEntropy, collapse_time, excess_entropy
from diffusion.datasets import (
    LabelledData,
    curie_weiss,
    gaussian_mixture,
    ising,
    load_array,
    load_digits,
    sphere,
    two_deltas,
)
from diffusion.equilibrium import (
    Landscape,
    Pitchfork,
    four_deltas_landscape,
    two_deltas_magnetisation,
    two_deltas_pitchfork,
)
from diffusion.gm_theory import (
    gm_collapse_time,
    gm_excess_entropy,
    gm_excess_entropy_annealed,
    gm_excess_entropy_finite,
    gm_phi,
    gm_potential,
    gm_speciation_time,
    two_gaussians_log_density,
    two_gaussians_score,
)
from diffusion.processes import (
    Process,
    as_process,
    ddpm_process,
    ddpm_schedule_times,
    ou_process,
    ve_process,
)
from diffusion.sampler import (
    BackwardResult,
    CloningStats,
    backward_sample,
    backward_sample_two_gaussians,
)
from diffusion.score import (
    EmpiricalPosterior,
    empirical_posterior,
    empirical_score,
    isotropic_gaussian_score,
    log_density,
    two_deltas_score,
)
from diffusion.speciation import (
    Crossing,
    TopEigen,
    crossing_point,
    speciation_time,
    top_eigenvalue,
)

__all__ = [
    # processes
    "Process", "as_process", "ou_process", "ve_process", "ddpm_process", "ddpm_schedule_times",
    # score
    "EmpiricalPosterior", "empirical_posterior", "empirical_score", "log_density",
    "two_deltas_score", "two_gaussians_score", "two_gaussians_log_density",
    "isotropic_gaussian_score",
    # sampler
    "BackwardResult", "CloningStats", "backward_sample", "backward_sample_two_gaussians",
    # speciation
    "TopEigen", "top_eigenvalue", "speciation_time", "gm_phi", "gm_potential", "Crossing",
    "crossing_point",
    # collapse
    "ExcessEntropy", "CollapseTime", "excess_entropy", "collapse_time", "gm_collapse_time",
    "gm_excess_entropy", "gm_excess_entropy_annealed", "gm_excess_entropy_finite",
    # Gaussian-mixture theory (gm_phi, gm_potential, the two-Gaussian score above)
    "gm_speciation_time",
    # data sets
    "LabelledData", "gaussian_mixture", "two_deltas", "sphere", "curie_weiss", "ising",
    "load_digits", "load_array",
    # equilibrium
    "Pitchfork", "Landscape", "two_deltas_magnetisation", "two_deltas_pitchfork",
    "four_deltas_landscape",
]
