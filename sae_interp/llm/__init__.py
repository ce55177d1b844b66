"""One LLM layer for every eval: typed requests/responses, backends (any OpenAI-compatible
endpoint, a scripted backend for tests), and the service that adds concurrency limits,
retries, timeouts, a response cache and cost accounting."""

from sae_interp.llm.backend import LLMBackend
from sae_interp.llm.cache import ResponseCache, request_key
from sae_interp.llm.errors import LLMError, RetryableLLMError
from sae_interp.llm.openai_backend import OpenAICompatibleBackend
from sae_interp.llm.pricing import cost_usd, load_prices, register_price
from sae_interp.llm.scripted import ScriptedBackend
from sae_interp.llm.service import LLMService, UsageReport, estimate_usage
from sae_interp.llm.types import ChatMessage, LLMRequest, LLMResponse, TokenLogprob, Usage

__all__ = [
    "ChatMessage",
    "LLMBackend",
    "LLMError",
    "LLMRequest",
    "LLMResponse",
    "LLMService",
    "OpenAICompatibleBackend",
    "ResponseCache",
    "RetryableLLMError",
    "ScriptedBackend",
    "TokenLogprob",
    "Usage",
    "UsageReport",
    "cost_usd",
    "estimate_usage",
    "load_prices",
    "register_price",
    "request_key",
]
