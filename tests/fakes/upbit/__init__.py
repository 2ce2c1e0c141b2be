"""A strict fake of the Upbit exchange (REST + WebSocket) for tests.  See ``server.py``."""

from .faults import FaultInjector
from .orders import FakeOrder, Fill
from .rest import RecordedRequest
from .server import FakeUpbit

__all__ = ["FakeOrder", "FakeUpbit", "FaultInjector", "Fill", "RecordedRequest"]
