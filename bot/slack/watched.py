"""slack_sdk's web client with one addition: Slack refusing the token is reported.

Every Web API method goes through ``api_call``, so a push (``chat.postMessage``), an upload and
Socket Mode's reconnect (``apps.connections.open``, which bolt sends through the app's client
with the app token) are all seen here; the transport names the variable from the method.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

#: Slack's answers for a token that is wrong, revoked, expired or whose owner is deactivated.
AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"}
)


def refused_reason(exc: BaseException) -> str | None:
    """Slack's error code when ``exc`` says the token is refused, else None."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error")
        if isinstance(error, str) and error in AUTH_ERRORS:
            return error
    return None


class WatchedWebClient(AsyncWebClient):
    def __init__(self, *, on_refused: Callable[[str, str], None], **kwargs: Any) -> None:
        """``on_refused(api_method, error)``; the rest as ``AsyncWebClient``."""
        super().__init__(**kwargs)
        self._on_refused = on_refused

    async def api_call(self, api_method: str, **kwargs: Any) -> AsyncSlackResponse:
        try:
            return await super().api_call(api_method, **kwargs)
        except SlackApiError as exc:
            reason = refused_reason(exc)
            if reason is not None:
                self._on_refused(api_method, reason)
            raise
