"""JWT verification exactly as Upbit does it (reference §2), implemented from scratch.

* ``Authorization: Bearer <jwt>``; HS256 or HS512 signed with the raw secret bytes.
* ``access_key`` must name a known key, ``nonce`` must never repeat (per access key).
* ``query_hash`` = SHA-512 hex of the URL-decoded query string as received (GET/DELETE) or of
  ``k=v&...`` built from the JSON body in key order (POST); ``query_hash_alg`` may be omitted
  or ``SHA512``.

All failures are 401 with Upbit's error names: ``no_authorization_token``,
``jwt_verification``, ``invalid_access_key``, ``nonce_used``, ``invalid_query_payload``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any
from urllib.parse import unquote, urlencode

from .errors import ApiError

_ALGS = {"HS256": hashlib.sha256, "HS512": hashlib.sha512}


def _fail(name: str, message: str) -> ApiError:
    return ApiError(401, name, message)


def _b64(part: str) -> bytes:
    padded = part + "=" * (-len(part) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def query_hash_of(decoded: str) -> str:
    return hashlib.sha512(decoded.encode("utf-8")).hexdigest()


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def body_hash_string(body: dict[str, Any]) -> str:
    """``k=v&...`` in body key order, lists as repeated keys, then URL-decoded (as the SDK)."""
    pairs: list[tuple[str, str]] = []
    for key, value in body.items():
        if isinstance(value, list):
            pairs.extend((key, _render(item)) for item in value)
        else:
            pairs.append((key, _render(value)))
    return unquote(urlencode(pairs))


class Authenticator:
    def __init__(self, keys: dict[str, str]) -> None:
        self.keys = dict(keys)
        self._nonces: set[tuple[str, str]] = set()

    def decode(self, header: str | None) -> dict[str, Any]:
        """Verify header + signature + access key + nonce; return the payload."""
        if not header:
            raise _fail("no_authorization_token", "Authorization 토큰이 없습니다.")
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            raise _fail("jwt_verification", "Jwt 토큰 검증에 실패했습니다.")
        parts = token.strip().split(".")
        if len(parts) != 3:
            raise _fail("jwt_verification", "Jwt 토큰 검증에 실패했습니다.")
        try:
            jose = json.loads(_b64(parts[0]))
            payload = json.loads(_b64(parts[1]))
            signature = _b64(parts[2])
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise _fail("jwt_verification", "Jwt 토큰 검증에 실패했습니다.") from exc
        if not isinstance(jose, dict) or not isinstance(payload, dict):
            raise _fail("jwt_verification", "Jwt 토큰 검증에 실패했습니다.")
        digest = _ALGS.get(str(jose.get("alg")))
        if digest is None:
            raise _fail("jwt_verification", "Jwt 토큰 검증에 실패했습니다.")
        access_key = payload.get("access_key")
        if not isinstance(access_key, str) or access_key not in self.keys:
            raise _fail("invalid_access_key", "잘못된 엑세스 키입니다.")
        secret = self.keys[access_key].encode("utf-8")
        signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
        expected = hmac.new(secret, signing_input, digest).digest()
        if not hmac.compare_digest(expected, signature):
            raise _fail("jwt_verification", "Jwt 토큰 검증에 실패했습니다.")
        nonce = payload.get("nonce")
        if not isinstance(nonce, str | int) or nonce == "":
            raise _fail("invalid_query_payload", "Jwt 페이로드가 올바르지 않습니다.")
        key = (access_key, str(nonce))
        if key in self._nonces:
            raise _fail("nonce_used", "이미 요청한 nonce값이 다시 사용되었습니다.")
        self._nonces.add(key)
        return payload

    def verify_rest(
        self, header: str | None, decoded_query: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        payload = self.decode(header)
        if body:
            signed = body_hash_string(body)
        elif decoded_query:
            signed = decoded_query
        else:
            return payload
        alg = payload.get("query_hash_alg", "SHA512")
        given = payload.get("query_hash")
        if alg != "SHA512" or not isinstance(given, str):
            raise _fail("invalid_query_payload", "Failed to verify the query of Jwt.")
        if not hmac.compare_digest(given.lower(), query_hash_of(signed)):
            raise _fail("invalid_query_payload", "Failed to verify the query of Jwt.")
        return payload
