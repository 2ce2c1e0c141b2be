"""Signing: the reference's query_hash vectors and the token's claims."""

from __future__ import annotations

import hashlib
import json

import jwt
import pytest

from trading.upbit.auth import Credentials, encode_query, make_token, query_hash

VECTORS = [
    (
        [("market", "KRW-BTC")],
        "market=KRW-BTC",
        "b749dfc2e17f75e5b46c8161f97fe7c9298ed4167ea21c5c94d16573efd8a801"
        "351470c0ff1a9a3f1e763f8249968218c04c571c8b45aa80cd4588e6c4be0738",
    ),
    (
        [("market", "KRW-BTC"), ("states[]", "wait"), ("states[]", "watch"), ("limit", "10")],
        "market=KRW-BTC&states[]=wait&states[]=watch&limit=10",
        "e3cfc649139c595e1c26a8aa2b3c8504f4b15011fc2b819081451e5e845172bd"
        "5dbbb5110ec5d7a3d1d32ff71f46a78323a040e8bedf8672021fd2206190a3a8",
    ),
    (
        [
            ("uuids[]", "9ca023a5-851b-4fec-9f0a-48cd83c2eaae"),
            ("uuids[]", "cdd92199-2897-4e14-9448-f923320408ad"),
        ],
        "uuids[]=9ca023a5-851b-4fec-9f0a-48cd83c2eaae&uuids[]=cdd92199-2897-4e14-9448-f923320408ad",
        "eb5595726e892c7e0287707a0f47f62652fe36de40ed1146b7457f295218de46"
        "bf0d19c4a10f8f59be343172a1c9a6dca430fa3b24d687478208136aedb74dfd",
    ),
    (
        [
            ("market", "KRW-BTC"),
            ("side", "bid"),
            ("volume", "0.001"),
            ("price", "50000000"),
            ("ord_type", "limit"),
        ],
        "market=KRW-BTC&side=bid&volume=0.001&price=50000000&ord_type=limit",
        "7a1eb1d7da6191e65ee8ae0fcb65c83f16b88bf05a9d252cd075a6c0abfcf304"
        "5e3c377378a034a11da9abf9cb00ad1435525991ddf110614b81814773499233",
    ),
    (
        [
            ("cancel_side", "all"),
            ("excluded_pairs", "KRW-ETH,BTC-XRP"),
            ("quote_currencies", "KRW,BTC"),
        ],
        "cancel_side=all&excluded_pairs=KRW-ETH,BTC-XRP&quote_currencies=KRW,BTC",
        "7dc6fba30e2f4dbfe30ba49a8cfee0477ad74c21a3848a14b940f55ca3924c3d"
        "e22d5d14c230b9bdfa0bf54058b58285d3e074301f3186bba7eaabe4710f4b21",
    ),
    (
        [("market", "KRW-BTC"), ("start_time", "2025-06-24T13:56:53+09:00")],
        "market=KRW-BTC&start_time=2025-06-24T13:56:53+09:00",
        "8dd42a0dae179c46b4fb6740a12b097979d92d5a7d002b3dcfe797762ec78291"
        "9a1d9851c2290082e6ad62196f8abd4883fc8458ec9ddea0d49234e440cf9687",
    ),
]


@pytest.mark.parametrize(("pairs", "decoded", "digest"), VECTORS)
def test_query_hash_matches_reference_vectors(pairs, decoded, digest):
    wire, hashed = encode_query(pairs)

    assert hashed == decoded
    assert query_hash(hashed) == digest
    assert hashlib.sha512(decoded.encode()).hexdigest() == digest
    if "+" in decoded or "[" in decoded:
        assert wire != decoded  # the wire form is encoded, the hashed form is not


def test_token_claims_and_fresh_nonce():
    creds = Credentials("access", "secret")

    first = jwt.decode(make_token(creds, "market=KRW-BTC"), "secret", algorithms=["HS256"])
    second = jwt.decode(make_token(creds, "market=KRW-BTC"), "secret", algorithms=["HS256"])
    bare = jwt.decode(make_token(creds), "secret", algorithms=["HS256"])

    assert first["access_key"] == "access"
    assert first["query_hash"] == VECTORS[0][2]
    assert first["query_hash_alg"] == "SHA512"
    assert first["nonce"] != second["nonce"]
    assert "query_hash" not in bare


def test_secret_is_used_raw_not_base64():
    token = make_token(Credentials("a", "c2VjcmV0"))
    header = json.loads(jwt.utils.base64url_decode(token.split(".")[0]))

    assert header["alg"] == "HS256"
    jwt.decode(token, "c2VjcmV0", algorithms=["HS256"])


def test_credentials_refuse_empty_and_hide_secret():
    with pytest.raises(ValueError, match="non-empty"):
        Credentials("a", "")
    assert "topsecret" not in repr(Credentials("a", "topsecret"))
