"""A scripted LLM for known-answer tests on the tiny vocabulary: it knows the planted token
sets, so it explains, judges and finds intruders by set membership. Routed on what each
request asks (its wording), never on the prompt modules' constants."""

from __future__ import annotations

import math
import re
from typing import Any

from sae_interp.llm.types import LLMRequest, LLMResponse, TokenLogprob
from sae_interp.saes.planted_sets import TOKEN_SETS, TokenSet, token_text
from sae_interp.testing.tiny import TINY_WORDS

MARKED = re.compile(r"<<(.*?)>>")


def token_category(token: str) -> str:
    text = token_text(token)
    for s in TOKEN_SETS.values():
        if s.name != "capitalised" and text and s.member(text):
            return s.name
    return "other"


def words(text: str) -> list[str]:
    """Tiny-vocabulary words in ``text`` (greedy longest match; spaces optional)."""
    out, i, text = [], 0, text.replace(" ", "")
    vocab = sorted(TINY_WORDS, key=len, reverse=True)
    while i < len(text):
        word = next((w for w in vocab if text.startswith(w, i)), None)
        out.append(word or text[i])
        i += len(word) if word else 1
    return out


def _named_set(explanation: str) -> TokenSet | None:
    return next((s for s in TOKEN_SETS.values() if s.names_this_set(explanation)), None)


def _answer(text: str, p: float, alternative: str | None = None) -> LLMResponse:
    """``text`` with probability ``p`` at its first token; the other answer (No for Yes and
    the reverse, or ``alternative``) gets the rest."""
    first = text.split(",")[0]
    other = alternative or {"Yes": "No", "No": "Yes"}[first]
    top = {first: math.log(p), other: math.log(1 - p)}
    return LLMResponse(text=text, logprobs=[TokenLogprob(token=first, logprob=top[first], top=top)])


def _marked_category(excerpt: str) -> str:
    cats = {token_category(t) for m in MARKED.findall(excerpt) for t in words(m)}
    return cats.pop() if len(cats) == 1 else "mixed"


class SetJudge:
    """``reply(request)`` for a :class:`~sae_interp.llm.ScriptedBackend`."""

    def __init__(self) -> None:
        self.explained = 0

    def reply(self, request: LLMRequest) -> str | LLMResponse:
        system, last = request.messages[0].content, request.messages[-1].content
        if "[EXPLANATION]" in system:
            self.explained += 1
            first = re.search(r'"(.+?)" \(\d+\)', last)
            token = first.group(1) if first else ""
            category = token_category(token)
            names = {
                "numbers": "numbers",
                "colours": "colours",
                "closing_brackets": "closing parentheses",
            }
            return f"[EXPLANATION]: {names.get(category, f'the word {token}')}"
        if "intruder" in last:
            excerpts = [
                line.split(": ", 1)[1] for line in last.splitlines() if line.startswith("Excerpt")
            ]
            cats = [_marked_category(e) for e in excerpts]
            common = max(set(cats), key=cats.count)
            odd = [i for i, c in enumerate(cats, 1) if c != common]
            return str(odd[0] if len(odd) == 1 else 1)
        # per-example questions (sae_interp.scorers.per_example_prompts)
        lines = last.splitlines()
        named = _named_set(lines[0].removeprefix("Description: "))
        shown = lines[1]
        if shown.startswith("Words: "):  # fuzzing: do all the marked words match?
            marked = [t for m in re.findall(r'"(.*?)"', shown) for t in words(m)]
            hit = bool(marked) and named is not None and all(named.member(t) for t in marked)
            return _answer("Yes", 0.9) if hit else _answer("No", 0.9)
        # detection: the words of the text that match, or None
        matching = [t for t in words(shown.removeprefix("Text: ")) if named and named.member(t)]
        if matching:
            return _answer(", ".join(matching), 0.9, alternative="None")
        return _answer("None", 0.9, alternative="the")


def register_set_judge(name: str = "set-judge") -> SetJudge:
    """A fresh :class:`SetJudge` registered as the LLM backend ``name``."""
    from sae_interp.llm.scripted import ScriptedBackend
    from sae_interp.llm.settings import LLM_BACKENDS

    judge = SetJudge()
    LLM_BACKENDS.register(name, lambda s, stack: ScriptedBackend(judge.reply), overwrite=True)
    return judge


TINY_PLANTED_SETS = ("numbers", "colours", "closing_brackets")


def tiny_planted_sae(model: Any) -> Any:
    """A planted SAE of the tiny model (three sets, three decoys) at ``blocks.0``."""
    import torch

    from sae_interp.saes.planted import build_planted_sae

    gen = torch.Generator().manual_seed(0)
    calibration = torch.randint(4, 4 + len(TINY_WORDS), (16, 32), generator=gen)
    return build_planted_sae(
        model, calibration, hook_name="blocks.0.hook_resid_post", sets=TINY_PLANTED_SETS
    )
