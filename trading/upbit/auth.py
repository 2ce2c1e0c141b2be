"""Upbit JWT signing: one fresh token per HTTP attempt, never reused.

Upbit hashes the URL-*decoded* query string in the order it was sent (``key[]=a&key[]=b`` for
arrays, ``k=a,b`` for comma lists); POST bodies are hashed as ``k=v&...`` in body-key order. We
build the wire string and the hashed string from the same ordered pairs so they cannot drift.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import unquote, urlencode

import jwt

QueryPairs = Sequence[tuple[str, str]]


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key: str
    secret_key: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.access_key or not self.secret_key:
            raise ValueError("Upbit access key and secret key must both be non-empty")


def encode_query(pairs: QueryPairs) -> tuple[str, str]:
    """Return ``(wire, hashed)``: the URL-encoded query string and its decoded form."""
    wire = urlencode(list(pairs))
    return wire, unquote(wire)


def query_hash(decoded: str) -> str:
    return hashlib.sha512(decoded.encode("utf-8")).hexdigest()


def make_token(creds: Credentials, decoded_query: str | None = None) -> str:
    """A signed HS256 token; ``decoded_query`` is None for calls without parameters."""
    payload: dict[str, str] = {"access_key": creds.access_key, "nonce": str(uuid.uuid4())}
    if decoded_query:
        payload["query_hash"] = query_hash(decoded_query)
        payload["query_hash_alg"] = "SHA512"
    return jwt.encode(payload, creds.secret_key, algorithm="HS256")


def bearer(creds: Credentials, decoded_query: str | None = None) -> str:
    return f"Bearer {make_token(creds, decoded_query)}"
