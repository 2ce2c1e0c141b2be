"""The command API's request and response bodies; the OpenAPI document is built from them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Lang = Literal["ko", "en"]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    lang: Lang | None = Field(None, description="the reply's language (default: bot.language)")


class CommandIn(In):
    command: str = Field(min_length=1, max_length=1024, examples=["/pause"])


class MarketIn(In):
    market: str | None = Field(
        None, pattern="^[A-Za-z]{2,5}-[A-Za-z0-9]{1,15}$", description="one market, or all"
    )


class ParamIn(In):
    value: str | int | float | bool = Field(description="the new value, as /set takes it")


class FieldOut(BaseModel):
    label: str
    value: str


class TableOut(BaseModel):
    headers: list[str]
    rows: list[list[str]]


class ConfirmationOut(BaseModel):
    id: str = Field(description="POST /api/v1/confirmations/{id} runs the command")
    expires_at: datetime = Field(description="confirm before this (UTC)")


class AnswerOut(BaseModel):
    """A command's reply as data; ``text`` is the whole reply as chat shows it."""

    ok: bool = Field(description="the command ran, or waits for its confirmation")
    outcome: str = Field(description="as audited: ok, confirm_pending, confirmed, denied, ...")
    title: str
    text: str
    lines: list[str]
    fields: list[FieldOut]
    table: TableOut | None
    severity: Literal["info", "warning", "critical"]
    confirmation: ConfirmationOut | None = Field(
        description="set when the command needs confirming"
    )
