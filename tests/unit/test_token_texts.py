"""Windows shown token by token: the memoised per-token text equals a decode of each token."""

from sae_interp.activations.records import DOCUMENT_BREAK, Window, WindowKind, token_texts
from sae_interp.text.formatting import plain_text


def test_token_texts_equal_one_decode_per_token(tokenizer) -> None:  # type: ignore[no-untyped-def]
    ids = tokenizer("the cat sat on the mat the cat", add_special_tokens=False)["input_ids"]
    expected = [tokenizer.decode([t]) for t in ids]
    assert token_texts(tokenizer, ids) == expected
    assert token_texts(tokenizer, ids) == expected  # second call from the memo
    window = Window(
        seq=0,
        start=0,
        end=len(ids),
        tokens=ids,
        activations=[0.0] * len(ids),
        kind=WindowKind.random,
    )
    assert window.str_tokens(tokenizer) == expected


def test_token_texts_without_weak_references() -> None:
    class Plain:
        __slots__ = ()

        def decode(self, ids: list[int]) -> str:
            return f"<{ids[0]}>"

    assert token_texts(Plain(), [3, 1, 3]) == ["<3>", "<1>", "<3>"]


def test_special_tokens_show_as_a_document_break() -> None:
    """A window spanning two documents shows the BOS between them as a paragraph break."""

    class WithBos:
        all_special_ids = (0,)

        def decode(self, ids: list[int]) -> str:
            return "<bos>" if ids == [0] else f" w{ids[0]}"

    assert token_texts(WithBos(), [5, 0, 6]) == [" w5", DOCUMENT_BREAK, " w6"]
    assert plain_text(token_texts(WithBos(), [5, 0, 6])) == " w5↵↵ w6"
