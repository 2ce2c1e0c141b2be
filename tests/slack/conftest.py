from tests.trading_engine.conftest import events, store  # noqa: F401  (fixtures)
