"""Logs are quiet by default (no per-request lines) and never show an API key."""

import logging

import pytest

from sae_interp.base.logging import NOISY_LOGGERS, RedactingFilter, redact, setup_logging


@pytest.fixture
def clean_root():  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    saved = (root.level, list(root.handlers))
    levels = {name: logging.getLogger(name).level for name in NOISY_LOGGERS}
    root.handlers = []
    try:
        yield root
    finally:
        root.setLevel(saved[0])
        root.handlers = saved[1]
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_per_request_lines_only_at_debug(clean_root: logging.Logger) -> None:
    setup_logging("INFO")
    assert not logging.getLogger("httpx").isEnabledFor(logging.INFO)
    assert logging.getLogger("httpx").isEnabledFor(logging.WARNING)
    assert logging.getLogger("sae_interp.x").isEnabledFor(logging.INFO)
    clean_root.handlers = []
    setup_logging("DEBUG")
    assert logging.getLogger("httpx").isEnabledFor(logging.DEBUG)
    assert logging.getLogger("openai").isEnabledFor(logging.DEBUG)


def test_handlers_mask_keys(clean_root: logging.Logger, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "plain-key-without-prefix-123")
    setup_logging("INFO")
    assert clean_root.handlers and all(
        any(isinstance(f, RedactingFilter) for f in handler.filters)
        for handler in clean_root.handlers
    )
    record = logging.LogRecord(
        "x",
        logging.ERROR,
        __file__,
        1,
        "failed: %s / %s",
        ("plain-key-without-prefix-123", "sk-abcdefghijklmnop"),
        None,
    )
    assert RedactingFilter().filter(record) and record.getMessage() == "failed: *** / ***"


def test_redact_masks_configured_and_key_shaped_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "my-secret-value")
    text = "key my-secret-value, sk-proj-AbC123_xyz-7890, Bearer abcdefghijk, sk-short"
    assert redact(text) == "key ***, ***, Bearer ***, sk-short"
