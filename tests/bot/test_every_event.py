"""Every event class describes itself, and every table that must cover it does.

The walk finds each subclass of ``Event`` that the bot and the engine define (recursively, so
an event derived from another counts too) and checks, for each one: it declares its kind, the
kind's default level and whether it is critical on the class itself; an event that is queued
for chat has a render function that gives text in Korean and English (a catalog key missing in
either raises); and an event that declares a ``metric`` is critical (so the bus never drops
it) and moves that series when ``Metrics`` sees it, while no other event is counted. Samples
are built from each class's fields and type hints, so a new event needs no entry here.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import types
import typing
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import Metrics
from bot.metrics.core import COUNTS
from bot.notify import Renderer
from bot.notify import events as own
from bot.notify.kinds import EVENTS, KINDS, LEVELS, UNQUEUEABLE
from bot.notify.messages import RENDERINGS
from handlers import events as chat
from handlers.i18n import Catalog
from trading import events as ev

AT = datetime(2025, 6, 19, 3, 10, tzinfo=UTC)
#: the few fields whose value a renderer looks up; any other field gets a value of its type
NAMED: dict[str, object] = {"market": "KRW-BTC", "protection": "stoploss_guard"}
#: values an event needs so that its metric moves (a circuit counts only its openings)
FOR_METRIC: dict[type[ev.Event], dict[str, object]] = {ev.CircuitStateChanged: {"new": "open"}}
OURS = ("trading.", "handlers.", "bot.")


def walk(cls: type[ev.Event]) -> Iterator[type[ev.Event]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from walk(sub)


def every_event() -> list[type[ev.Event]]:
    """The event classes of the engine and the bot, each once (a slotted dataclass leaves its
    first, replaced class behind among the subclasses; tests define events of their own)."""
    found = {
        cls
        for cls in walk(ev.Event)
        if cls.__module__.startswith(OURS)
        and getattr(inspect.getmodule(cls), cls.__name__, None) is cls
    }
    return sorted(found, key=lambda cls: cls.__name__)


EVENT_CLASSES = every_event()


def value_of(hint: Any, name: str) -> object:
    """A plain value of type ``hint``."""
    if name in NAMED:
        return NAMED[name]
    if dataclasses.is_dataclass(hint):
        return build(hint)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return value_of(next(a for a in typing.get_args(hint) if a is not type(None)), name)
    if origin is typing.Literal:
        return typing.get_args(hint)[0]
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return (value_of(item, name),)
    plain: dict[Any, object] = {
        str: "x",
        bool: True,
        int: 3,
        float: 1.5,
        Decimal: Decimal("1000"),
        datetime: AT,
        date: date(2025, 7, 1),
        bytes: b"",
    }
    if origin is dict:
        return {}
    return plain[hint]


def build(cls: Any, **values: object) -> Any:
    """An instance of the dataclass ``cls``, every required field filled from its type."""
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in values:
            values[f.name] = value_of(hints[f.name], f.name)
    return cls(**values)


def sample(cls: type[ev.Event], lang: str = "en", **values: object) -> ev.Event:
    """An event at ``AT``; an event rendered in its asker's language (``lang``) in ``lang``."""
    if "lang" in {f.name for f in dataclasses.fields(cls)}:
        values.setdefault("lang", lang)
    event = build(cls, at=AT, **values)
    assert isinstance(event, cls)
    return event


def test_the_walk_finds_exactly_the_events_the_bot_collects() -> None:
    assert set(EVENT_CLASSES) == set(EVENTS)
    assert len(EVENT_CLASSES) >= 39


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda c: c.__name__)
def test_declares_its_kind_level_and_criticality(cls: type[ev.Event]) -> None:
    declared = vars(cls)
    assert isinstance(declared.get("kind"), str), "kind"
    assert declared["kind"], "kind"
    assert declared.get("level") in LEVELS, "level"
    assert isinstance(declared.get("critical"), bool), "critical"
    assert KINDS[cls.kind] == cls.level  # events of one kind agree on its default


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda c: c.__name__)
def test_a_queued_event_renders_in_korean_and_english(cls: type[ev.Event]) -> None:
    if not cls.queued:
        assert cls.kind in UNQUEUEABLE
        assert RENDERINGS.get(cls) is None
        return
    assert RENDERINGS.get(cls) is not None, f"no @renders({cls.__name__})"
    for lang in ("ko", "en"):
        reply = Renderer(Catalog.load(lang), paper=True).render(sample(cls, lang))
        assert reply is not None
        badge = Catalog.load(lang).t("notify.badge.paper")
        assert reply.title.removeprefix(badge).strip(), (lang, reply)


@pytest.mark.parametrize("cls", EVENT_CLASSES, ids=lambda c: c.__name__)
async def test_an_event_with_a_metric_moves_it_and_no_other_is_counted(
    cls: type[ev.Event],
) -> None:
    if not cls.metric:
        assert COUNTS.get(cls) is None
        return
    assert cls.critical, "a counted event must be critical: the bus may drop the others"
    metrics = Metrics(version="t", mode="paper", strategy="s")
    before = total(metrics, cls.metric)
    await metrics.on_event(sample(cls, **FOR_METRIC.get(cls, {})))
    assert total(metrics, cls.metric) > before


def total(metrics: Metrics, family: str) -> float:
    text = generate_latest(metrics.registry).decode()
    found = [f for f in text_string_to_metric_families(text) if f.name == family]
    assert found, f"no series {family}"
    return sum(s.value for s in found[0].samples if s.name.endswith("_total"))


@pytest.mark.parametrize("module", [ev, chat, own], ids=lambda m: m.__name__)
def test_no_docstring_is_lost_below_a_class_attribute(module: types.ModuleType) -> None:
    """A string after the first statement of a class body is no docstring (it was written
    under ``critical: ClassVar[bool] = True`` in three events once)."""
    tree = ast.parse(inspect.getsource(module))
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for stmt in node.body[1:]:
                lost = isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                assert not (lost and isinstance(stmt.value.value, str)), node.name
