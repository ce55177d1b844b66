"""A small named registry used for everything pluggable (SAE classes, spec resolvers,
samplers, evals). Registration is explicit and lookups fail with the list of known names."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from sae_interp.base.errors import SpecError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str, item: T, *, overwrite: bool = False) -> T:
        if name in self._items and not overwrite and self._items[name] is not item:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._items[name] = item
        return item

    def decorator(self, name: str, *, overwrite: bool = False) -> Callable[[T], T]:
        def wrap(item: T) -> T:
            return self.register(name, item, overwrite=overwrite)

        return wrap

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            known = ", ".join(sorted(self._items)) or "(none)"
            raise SpecError(f"unknown {self.kind} {name!r}; known: {known}") from None

    def validate(self, name: str, *also: str) -> str:
        """``name`` if it is registered (or one of ``also``, such as ``"auto"``); else a
        ValueError with the known names. Every config field that chooses an implementation
        checks itself with this, so a bad value is refused when the config is read, before
        any model loads."""
        if name in self._items or name in also:
            return name
        known = ", ".join([*also, *sorted(self._items)]) or "(none)"
        raise ValueError(f"unknown {self.kind} {name!r}; known: {known}")

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def names(self) -> list[str]:
        return sorted(self._items)

    def unregister(self, name: str) -> None:
        self._items.pop(name, None)
