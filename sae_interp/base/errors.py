"""Exception types. Every user-facing failure raises one of these with a message that
says what was wrong and what to do instead."""


class SaeInterpError(Exception):
    """Base class for errors raised by sae_interp."""


class SpecError(SaeInterpError, ValueError):
    """A model, SAE or corpus spec could not be resolved."""


class CompatibilityError(SaeInterpError, ValueError):
    """Model, SAE and corpus settings do not fit together (hook, width, context length)."""


class CorpusError(SaeInterpError, ValueError):
    """The corpus produced no usable tokens or could not be read."""


class CacheError(SaeInterpError, RuntimeError):
    """An on-disk cache is missing, incomplete or inconsistent."""


class ExplanationsFileError(SaeInterpError, ValueError):
    """A file of explanations given with ``--explanations`` could not be read."""


class ConfigFileError(SaeInterpError, ValueError):
    """A ``--config`` file is missing, unreadable or not a JSON object."""


class AllLLMWorkFailedError(SaeInterpError, RuntimeError):
    """No latent could be explained or scored because every LLM request failed."""
