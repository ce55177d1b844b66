"""sae_interp: measure how interpretable the latents of sparse autoencoders are."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("sae-interp")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
