"""The HTTP operations surface: probes (``health``), the read-only JSON API (``routes``,
``schemas``, ``openapi``), the dashboard, and their wiring into the running bot."""
