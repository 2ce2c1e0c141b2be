"""Slack's request signature check, answering 401 (not 500) to a malformed timestamp.

slack_sdk's ``SignatureVerifier.is_valid`` computes ``int(timestamp)`` before anything else,
so ``X-Slack-Request-Timestamp: abc`` raised ``ValueError`` inside bolt's verification
middleware and bolt answered 500: the bot looked broken, and a sender that retries on 5xx
(Slack does) kept coming. Here a timestamp that is not a plain number of seconds is just an
invalid signature; the rest of the check is slack_sdk's own. The transport installs it in
bolt's place (``request_verification_enabled=False``, ``before_authorize=``), so it still runs
before anything else looks at the request.
"""

from __future__ import annotations

import re

from slack_bolt.middleware.request_verification.async_request_verification import (
    AsyncRequestVerification,
)
from slack_sdk.signature import SignatureVerifier

_SECONDS = re.compile(r"[0-9]{1,12}")  # Unix seconds; more digits are no time Slack sends


class _Verifier(SignatureVerifier):
    def is_valid(self, body: str | bytes, timestamp: str | None, signature: str | None) -> bool:
        if timestamp is None or not _SECONDS.fullmatch(timestamp):
            return False
        return super().is_valid(body, timestamp, signature)


class SignedRequests(AsyncRequestVerification):
    """bolt's ``AsyncRequestVerification`` with a verifier that refuses odd timestamps."""

    def __init__(self, signing_secret: str) -> None:
        super().__init__(signing_secret)
        self._verifier = _Verifier(signing_secret)
