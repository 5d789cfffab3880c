"""Diffusion models with the exact empirical score: dynamics, speciation, collapse."""

__all__: list[str] = []
