"""Headless Chromium, started by the test: the rendered DOM (``--dump-dom``), a screenshot, or
a tab driven over the DevTools protocol (``Page``: type, click, read back)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import aiohttp
import pytest

SKIP_PREFIX = "Chromium not available"  # tests/conftest.py: REQUIRE_BROWSER_TESTS

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


def chromium_or_skip() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip(f"{SKIP_PREFIX}: install Debian's chromium package (apt-get install chromium)")
    return path


async def run_chromium(url: str, profile: Path, *extra: str, budget_ms: int = 5000) -> str:
    """Load ``url`` headless with no network but loopback, return what it printed."""
    proc = await asyncio.create_subprocess_exec(
        chromium_or_skip(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={budget_ms}",
        *extra,
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        async with asyncio.timeout(60):
            out, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
    return out.decode()


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    hidden: bool
    text: str = ""
    children: list[Element] = field(default_factory=list)


class Dom(HTMLParser):
    """The dumped DOM as a flat list of elements with their text (enough to assert on)."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        hidden = "hidden" in values or any(e.hidden for e in self._open)
        element = Element(tag, values, hidden)
        if self._open:
            self._open[-1].children.append(element)
        self.elements.append(element)
        if tag not in VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i].tag == tag:
                del self._open[i:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.text += data

    def by_id(self, ident: str) -> Element:
        found = [e for e in self.elements if e.attrs.get("id") == ident]
        assert len(found) == 1, f"{len(found)} elements with id {ident!r}"
        return found[0]

    def having(self, attr: str) -> list[Element]:
        return [e for e in self.elements if attr in e.attrs]

    def tags(self, tag: str) -> list[Element]:
        return [e for e in self.elements if e.tag == tag]


def rows(table: Element) -> list[Element]:
    bodies = [c for c in table.children if c.tag == "tbody"]
    assert len(bodies) == 1
    return [r for r in bodies[0].children if r.tag == "tr"]


def cells(row: Element) -> list[str]:
    return [c.text.strip() for c in row.children if c.tag == "td"]


class Page:
    """One headless Chromium tab driven over the DevTools protocol: what a user does (type,
    click) as script in the page, and what the page shows read back the same way."""

    def __init__(self, proc: asyncio.subprocess.Process, ws: aiohttp.ClientWebSocketResponse):
        self._proc, self._ws, self._next = proc, ws, 0

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str, profile: Path) -> AsyncIterator[Page]:
        await asyncio.to_thread(profile.mkdir, parents=True, exist_ok=True)
        proc = await asyncio.create_subprocess_exec(
            chromium_or_skip(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-extensions",
            "--disable-dev-shm-usage",
            "--remote-debugging-port=0",
            "--remote-allow-origins=*",
            f"--user-data-dir={profile}",
            "about:blank",
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        try:
            async with aiohttp.ClientSession() as http:
                port = await _devtools_port(profile / "DevToolsActivePort")
                async with http.get(f"http://127.0.0.1:{port}/json/list") as listing:
                    targets = await listing.json()
                target = next(t for t in targets if t["type"] == "page")
                async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    page = cls(proc, ws)
                    await page.send("Page.navigate", url=url)
                    # navigate answers before the new document exists: until it has loaded,
                    # an expression sees the blank page (no elements, null lookups)
                    await page.wait_until(
                        "location.protocol.startsWith('http')"
                        " && document.readyState === 'complete'"
                    )
                    yield page
        finally:
            if proc.returncode is None:
                proc.kill()
            await proc.wait()

    async def send(self, method: str, **params: object) -> dict[str, Any]:
        self._next += 1
        await self._ws.send_json({"id": self._next, "method": method, "params": params})
        async with asyncio.timeout(30):
            while True:
                message = await self._ws.receive_json()
                if message.get("id") == self._next:
                    assert "error" not in message, message
                    result: dict[str, Any] = message["result"]
                    return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        assert "exceptionDetails" not in result, result["exceptionDetails"]
        return result["result"].get("value")

    async def wait_until(self, expression: str, within_s: float = 15) -> Any:
        """Poll ``expression`` in the page until it is truthy; its value."""
        async with asyncio.timeout(within_s):
            while not (value := await self.evaluate(expression)):  # noqa: ASYNC110 - the page
                await asyncio.sleep(0.1)
        return value


async def _devtools_port(path: Path) -> int:
    """The port Chromium chose (``--remote-debugging-port=0`` writes it to its profile)."""

    def read() -> str:
        return path.read_text() if path.exists() else ""

    async with asyncio.timeout(30):
        while not (text := await asyncio.to_thread(read)).strip():  # noqa: ASYNC110 - a file
            await asyncio.sleep(0.05)
    return int(text.split()[0])
