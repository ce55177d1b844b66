"""Logging setup for command-line entry points (library code only creates loggers).

Quiet by default: our own INFO lines, library warnings and the progress bars. The
per-request lines of the HTTP and LLM client libraries appear only at DEBUG. Every record
passes through :func:`redact`, so no API key reaches a log (LLM errors use it too).
"""

from __future__ import annotations

import logging
import os
import re

# libraries that log every request (or similar chatter) at INFO
NOISY_LOGGERS = (
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
    "openai",
    "urllib3",
    "filelock",
    "datasets",
    "transformers",
)


_KEY_LIKE = re.compile(r"\b(sk|pk|rk)-[A-Za-z0-9_\-]{8,}")
_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9_\-\.]{8,}")
_SECRET_ENV_NAMES = {"OPENAI_API_KEY"}
MASK = "***"


def register_secret_env(name: str) -> None:
    """Mask the value of environment variable ``name`` wherever :func:`redact` runs."""
    _SECRET_ENV_NAMES.add(name)


def redact(text: str) -> str:
    """``text`` with the configured API keys and anything that looks like a key masked."""
    for name in _SECRET_ENV_NAMES:
        value = os.environ.get(name)
        if value and len(value) >= 4:
            text = text.replace(value, MASK)
    text = _KEY_LIKE.sub(MASK, text)
    return _BEARER.sub(lambda m: m.group(1) + MASK, text)


class RedactingFilter(logging.Filter):
    """Masks API keys in a record's final message (and drops its arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, ()
        return True


def setup_logging(level: str | int = "INFO") -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    root = logging.getLogger()
    root.setLevel(level)  # also when a handler was already installed (basicConfig skips it)
    for handler in root.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
    quiet = max(logging.WARNING, root.level)  # at DEBUG the libraries' lines come back
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.DEBUG if root.level <= logging.DEBUG else quiet)
