"""Modern and classical Hopfield networks, and the bridge to diffusion (hopfield.bridge)."""

__all__: list[str] = []
