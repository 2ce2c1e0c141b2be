"""The application: config, CLI, lifecycle of the one event loop, chat transports."""
