"""One LLM layer for every eval: typed requests/responses, backends (any OpenAI-compatible
endpoint, a scripted backend for tests), and the service that adds concurrency limits,
retries, timeouts, a response cache and cost accounting."""

from sae_interp.llm.cache import ResponseCache, request_key
from sae_interp.llm.errors import (
    FailureKind,
    LLMError,
    LLMRunAborted,
    RetryableLLMError,
    redact,
)
from sae_interp.llm.openai_backend import OpenAICompatibleBackend
from sae_interp.llm.pricing import cost_usd, load_prices, register_price
from sae_interp.llm.report import UsageReport, failure_counts
from sae_interp.llm.scripted import ScriptedBackend
from sae_interp.llm.service import LLMService, Validator, estimate_usage
from sae_interp.llm.types import (
    ChatMessage,
    LLMBackend,
    LLMRequest,
    LLMResponse,
    TokenLogprob,
    Usage,
)

__all__ = [
    "ChatMessage",
    "FailureKind",
    "LLMBackend",
    "LLMError",
    "LLMRequest",
    "LLMResponse",
    "LLMRunAborted",
    "LLMService",
    "OpenAICompatibleBackend",
    "ResponseCache",
    "RetryableLLMError",
    "ScriptedBackend",
    "TokenLogprob",
    "Usage",
    "UsageReport",
    "Validator",
    "cost_usd",
    "estimate_usage",
    "failure_counts",
    "load_prices",
    "redact",
    "register_price",
    "request_key",
]
