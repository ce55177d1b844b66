"""Every prompt module's exact text, compared with a golden file under ``golden/``.

Each module's constants (system prompts, instructions, few-shot demos, templates) and its
user message on a fixed input are rendered to text; any wording change shows up as a diff of
the golden file in review. A prompt module added without a golden file fails here.
Regenerate deliberately with ``SAE_INTERP_UPDATE_GOLDEN=1 pytest tests/unit/test_prompt_golden.py``.
"""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

import sae_interp

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("SAE_INTERP_UPDATE_GOLDEN") == "1"


def prompt_modules() -> list[str]:
    """Every module whose name says it holds prompts."""
    names = []
    for info in pkgutil.walk_packages(sae_interp.__path__, "sae_interp."):
        leaf = info.name.rsplit(".", 1)[-1]
        if leaf.endswith("_prompts") or (".prompts." in info.name and leaf != "__init__"):
            names.append(info.name)
    return sorted(names)


def _render(value: Any, indent: str = "") -> str:
    if isinstance(value, str):
        return indent + value.replace("\n", "\n" + indent)
    if isinstance(value, (tuple, list)):
        return "\n".join(
            f"{indent}[{i}]\n{_render(item, indent + '  ')}" for i, item in enumerate(value)
        )
    return indent + repr(value)


# fixed inputs for the user-message builders whose arguments are plain strings and lists
SAMPLE_ARGS: dict[str, Callable[[], Any]] = {
    "explanation": lambda: "colour words",
    "description": lambda: "colour words",
    "excerpts": lambda: ["a red car", "the <<blue>> sea"],
    "excerpt": lambda: "She parked the <<red>> car by the <<blue>> door on Monday.",
    "tokens": lambda: ["The", " red", " car"],
    "n": lambda: 3,
    "passage": lambda: "She painted the wall",
    "top_tokens": lambda: [("red", 2), ("blue", 1)],
    "examples": lambda: [],
    "contrasts": lambda: ["a grey car", "the calm sea"],
}


def _builders(module: ModuleType) -> list[str]:
    """``user_message``, ``prefix`` and every ``*_message`` function the module defines."""
    names = [n for n in ("user_message", "prefix") if hasattr(module, n)]
    names += sorted(n for n in vars(module) if n.endswith("_message") and n != "user_message")
    return names


def _user_messages(module: ModuleType) -> list[tuple[str, str]]:
    rendered = []
    for name in _builders(module):
        builder = getattr(module, name, None)
        if not inspect.isfunction(builder) or inspect.getmodule(builder) is not module:
            continue
        params = inspect.signature(builder).parameters
        if not all(p in SAMPLE_ARGS for p in params):
            continue  # needs a transcript or a record: covered by its own tests
        rendered.append((name, builder(**{p: SAMPLE_ARGS[p]() for p in params})))
    return rendered


def render_module(module: ModuleType) -> str:
    parts = []
    for name, value in sorted(vars(module).items()):
        if name.isupper() and isinstance(value, (str, tuple)) and not name.startswith("_"):
            parts.append(f"== {name}\n{_render(value)}")
    for name, text in _user_messages(module):
        parts.append(f"== {name}(sample)\n{text}")
    return "\n\n".join(parts) + "\n"


@pytest.mark.parametrize("name", prompt_modules())
def test_prompt_text_equals_golden(name: str) -> None:
    text = render_module(importlib.import_module(name))
    path = GOLDEN / f"{name.removeprefix('sae_interp.')}.txt"
    if UPDATE:
        path.write_text(text)
    assert path.exists(), f"{name} has no golden file {path.name}; write one deliberately"
    assert text == path.read_text(), f"the text of {name} changed (diff against {path})"


def test_every_golden_file_belongs_to_a_module() -> None:
    expected = {f"{name.removeprefix('sae_interp.')}.txt" for name in prompt_modules()}
    assert {p.name for p in GOLDEN.glob("*.txt")} == expected
