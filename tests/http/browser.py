"""Headless Chromium, started by the test: the rendered DOM (``--dump-dom``) or a screenshot."""

from __future__ import annotations

import asyncio
import shutil
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

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
