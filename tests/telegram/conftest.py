from tests.engine.conftest import events, store  # noqa: F401  (fixtures)
