"""The transport-neutral reply: what a command or a push says, before any platform renders it.

Telegram renders it as HTML (every dynamic value escaped, split at 4096 characters on row
boundaries), Slack as Block Kit with a text fallback, the console as plain text. Handlers never
produce markup.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Button:
    """``data`` goes back to the bot when pressed; at most 64 bytes (Telegram's limit)."""

    label: str
    data: str

    def __post_init__(self) -> None:
        if len(self.data.encode("utf-8")) > 64:
            raise ValueError(f"button data is over 64 bytes: {self.data!r}")


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Image:
    filename: str
    data: bytes = field(repr=False)
    caption: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """``fields`` are label/value pairs; ``lines`` free text; ``ephemeral`` = only the asker
    sees it (Slack), used for errors and refusals."""

    title: str
    lines: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    table: Table | None = None
    image: Image | None = None
    buttons: tuple[Button, ...] = ()
    severity: Severity = Severity.INFO
    ephemeral: bool = False

    def plain_text(self) -> str:
        """The console's rendering, and every platform's fallback text."""
        out = [self.title, *self.lines]
        out += [f"{label}: {value}" for label, value in self.fields]
        if self.table is not None:
            widths = [
                max(len(str(c)) for c in col)
                for col in zip(self.table.headers, *self.table.rows, strict=False)
            ]
            for row in (self.table.headers, *self.table.rows):
                out.append("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=False)))
        if self.image is not None:
            out.append(f"[image {self.image.filename}] {self.image.caption}".rstrip())
        if self.buttons:
            out.append("  ".join(f"[{b.label}]" for b in self.buttons))
        return "\n".join(out)
