"""Retry policy for reads: exponential backoff with full jitter, only for transient errors."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from trading.errors import Banned, RateLimited, TransientError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """``max_retries`` extra attempts after the first; never used for order POSTs."""

    max_retries: int = 3
    base_s: float = 0.2
    max_s: float = 5.0

    def backoff(self, attempt: int, error: Exception) -> float:
        if isinstance(error, RateLimited):
            return error.retry_after
        ceiling = min(self.max_s, self.base_s * (2**attempt))
        return random.uniform(0, ceiling)  # full jitter (AWS architecture blog)

    def should_retry(self, attempt: int, error: Exception) -> bool:
        # a ban lasts minutes: waiting belongs to the limiter's queue, not to a retry loop
        return (
            attempt < self.max_retries
            and isinstance(error, TransientError)
            and not isinstance(error, Banned)
        )

    async def run(self, call: Callable[[], Awaitable[T]]) -> T:
        attempt = 0
        while True:
            try:
                return await call()
            except TransientError as exc:
                if not self.should_retry(attempt, exc):
                    raise
                await asyncio.sleep(self.backoff(attempt, exc))
                attempt += 1
