"""Message catalogs: one per language, merged from every ``<lang>/*.toml`` file here.

Keys are dotted (``status.title``); values are ``str.format`` templates with named fields.
Korean is the default (``bot.language = "ko"``). A key missing in one language is a test
failure, never a silent English fallback in a Korean chat.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

LANGUAGES = ("ko", "en")


def _flatten(prefix: str, table: Mapping[str, Any], out: dict[str, str]) -> None:
    for key, value in table.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, Mapping):
            _flatten(dotted, value, out)
        elif isinstance(value, str):
            out[dotted] = value
        else:
            raise TypeError(f"catalog value {dotted} must be a string, not {type(value).__name__}")


def load_messages(language: str) -> dict[str, str]:
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r} (known: {', '.join(LANGUAGES)})")
    messages: dict[str, str] = {}
    folder = resources.files("handlers.i18n") / language
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            table = tomllib.loads(entry.read_text(encoding="utf-8"))
            flat: dict[str, str] = {}
            _flatten("", table, flat)
            clash = sorted(set(flat) & set(messages))
            if clash:
                raise ValueError(f"{language}/{entry.name} repeats keys: {', '.join(clash)}")
            messages.update(flat)
    return messages


@dataclass(frozen=True)
class Catalog:
    language: str
    messages: Mapping[str, str]

    @classmethod
    def load(cls, language: str) -> Catalog:
        return cls(language, load_messages(language))

    def t(self, key: str, /, **values: object) -> str:
        """The message for ``key`` filled with ``values``; a missing key raises KeyError."""
        return self.messages[key].format(**values)

    def coded(
        self, section: str, code: str, values: Iterable[tuple[str, str]], fallback: str
    ) -> str:
        """``<section>.<code>`` filled with ``values``: the engine's refusals, halts and risk
        lines carry a code; a code this catalog lacks (a user strategy's rule) falls back to
        the engine's English sentence."""
        key = f"{section}.{code}"
        return self.t(key, **dict(values)) if code and key in self.messages else fallback
