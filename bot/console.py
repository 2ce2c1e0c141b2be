"""The console transport: commands typed on stdin, replies on stdout, as the local admin.

Every line goes through the same dispatcher as Telegram and Slack (transport ``console``).
A command that needs confirmation prints its preview and buttons as text; type ``yes`` to
confirm the latest one (or ``confirm TOKEN`` for a given one) and ``no`` to cancel it.
``quit`` (or ``exit``) stops the bot.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Awaitable, Callable

from handlers.auth import Principal
from handlers.confirm import CONFIRM_PREFIX, cancel_data, confirm_data
from handlers.dispatcher import Dispatcher
from handlers.reply import Reply

YES = ("yes", "y", "예", "네", "ok")
NO = ("no", "n", "아니오", "아니요")
QUIT = ("quit", "exit", "stop")


class Console:
    """Turns one typed line into the text to print (None: print nothing)."""

    def __init__(self, dispatcher: Dispatcher, language: str | None = None) -> None:
        self.dispatcher = dispatcher
        self.language = language
        self.who = Principal.console()

    async def line(self, text: str) -> str | None:
        words = text.strip().split()
        if not words:
            return None
        head = words[0].lower().lstrip("/")
        t = self.dispatcher.catalog(self.language)
        if head in YES or head in NO:
            pending = self.dispatcher.latest_pending(self.who)
            if pending is None:
                return t.t("console.no_pending")
            data = confirm_data(pending.token) if head in YES else cancel_data(pending.token)
            return self.render(await self.dispatcher.press(self.who, data, self.language))
        if head == "confirm" and len(words) == 2:
            reply = await self.dispatcher.press(self.who, confirm_data(words[1]), self.language)
            return self.render(reply)
        return self.render(await self.dispatcher.handle(self.who, text, self.language))

    def render(self, reply: Reply | None) -> str | None:
        if reply is None:
            return None
        out = reply.plain_text()
        token = next(
            (b.data[len(CONFIRM_PREFIX) :] for b in reply.buttons if b.data.startswith("cf:")),
            None,
        )
        if token is not None:
            hint = self.dispatcher.catalog(self.language).t("console.hint", token=token)
            out += "\n" + hint
        return out


async def run_console(
    leader: Callable[[], Dispatcher | None],
    standby: Callable[[str], Awaitable[str | None]],
    stop: asyncio.Event,
) -> None:
    """Read stdin until EOF or ``quit`` (one reader for the process's life, a daemon thread so
    Ctrl-C never waits); each line goes to the leader's dispatcher while this instance trades,
    else to the standby's read-only desk."""
    if sys.stdin is None or sys.stdin.closed:
        return
    loop = asyncio.get_running_loop()
    lines: asyncio.Queue[str | None] = asyncio.Queue()

    def reader() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(lines.put_nowait, line)
        loop.call_soon_threadsafe(lines.put_nowait, None)

    threading.Thread(target=reader, name="console-stdin", daemon=True).start()
    consoles: dict[int, Console] = {}  # one per leadership term: its pending confirmations
    while (line := await lines.get()) is not None:
        dispatcher = leader()
        if line.strip().lower().lstrip("/") in QUIT:
            bye = dispatcher.catalog().t("console.stopping") if dispatcher else "stopping"
            print(bye, flush=True)
            stop.set()
            return
        if dispatcher is not None:
            console = consoles.setdefault(id(dispatcher), Console(dispatcher))
            text = await console.line(line)
        else:
            text = await standby(line)
        if text is not None:
            print(text, "", sep="\n", flush=True)
