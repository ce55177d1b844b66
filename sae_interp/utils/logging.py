"""Logging setup for command-line entry points (library code only creates loggers).

Quiet by default: our own INFO lines, library warnings and the progress bars. The
per-request lines of the HTTP and LLM client libraries appear only at DEBUG. Every record
passes through :func:`~sae_interp.llm.errors.redact`, so no API key reaches a log.
"""

from __future__ import annotations

import logging

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


class RedactingFilter(logging.Filter):
    """Masks API keys in a record's final message (and drops its arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        from sae_interp.llm.errors import redact

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
