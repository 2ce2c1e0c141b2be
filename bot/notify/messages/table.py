"""The table of render functions, one per event class (``@renders(OrderFilled)``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.by_event import ByEvent

if TYPE_CHECKING:
    from bot.notify.render import Renderer
    from handlers.reply import Reply

#: a render function: the renderer (units, catalog, mode) and the event -> its message
Render = Callable[["Renderer", Any], "Reply | None"]

RENDERINGS: ByEvent[Render] = ByEvent()
renders = RENDERINGS.on
