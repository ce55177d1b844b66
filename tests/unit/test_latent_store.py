from pathlib import Path

from pydantic import BaseModel

from sae_interp.framework.latent_store import LatentStore


class Item(BaseModel):
    latent: int
    score: float


def test_append_reload_and_last_line_wins(tmp_path: Path) -> None:
    store = LatentStore(tmp_path / "r.jsonl", Item)
    store.put(Item(latent=3, score=0.5))
    store.put(Item(latent=1, score=0.25))
    store.put(Item(latent=3, score=0.75))
    again = LatentStore(tmp_path / "r.jsonl", Item)
    assert again.done() == {1, 3} and again.get(3) == Item(latent=3, score=0.75)
    assert [i.latent for i in again.items()] == [1, 3]


def test_torn_last_line_is_ignored(tmp_path: Path, caplog) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"latent": 1, "score": 0.5}\n{"latent": 2, "sco')
    store = LatentStore(path, Item)
    assert store.done() == {1}
    assert "not a complete record" in caplog.text
    store.put(Item(latent=2, score=1.0))  # appending after a torn line loses nothing
    assert LatentStore(path, Item).done() == {1, 2}
