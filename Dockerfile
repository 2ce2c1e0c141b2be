# syntax=docker/dockerfile:1
# upbit-bot image: docs/deploy.md. Build: docker build -t upbit-bot .
# Run:   docker run -e UPBIT_BOT_API_TOKEN=... -v $PWD/config.toml:/config/config.toml:ro \
#            -v upbit-data:/data -p 8080:8080 upbit-bot

# -- builder: the project and its runtime dependencies (no dev extras) in a venv ---------------
FROM python:3.11-slim AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY trading ./trading
# a wheel first, so the venv holds exactly what a release holds (package data included)
RUN /opt/venv/bin/pip install --upgrade pip \
    && /opt/venv/bin/pip wheel --no-deps --wheel-dir /wheels . \
    && /opt/venv/bin/pip install /wheels/*.whl \
    && /opt/venv/bin/python -m compileall -q /opt/venv

# -- runtime: slim Python, the venv, a fixed non-root user, config and data as volumes --------
FROM python:3.11-slim AS runtime
LABEL org.opencontainers.image.title="upbit-bot" \
      org.opencontainers.image.description="Upbit trading bot steered from Telegram and Slack" \
      org.opencontainers.image.licenses="Apache-2.0"
RUN groupadd --system --gid 10001 bot \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin bot \
    && mkdir -p /config /data \
    && chown 10001:10001 /data && chmod 700 /data
COPY --from=builder /opt/venv /opt/venv
# the defaults run in paper mode on the bundled replay; mount your own over /config
COPY config.example.toml /config/config.toml
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    UPBIT_BOT_CONFIG=/config/config.toml \
    UPBIT_BOT_STORE__URL=sqlite+aiosqlite:////data/upbit-bot.db \
    UPBIT_BOT_HTTP__HOST=0.0.0.0 \
    UPBIT_BOT_HTTP__PORT=8080
WORKDIR /data
VOLUME ["/config", "/data"]
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
# stdlib only (no curl in slim); a refused, slow (> 4 s) or non-200 answer exits non-zero
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as r; port = os.environ.get('UPBIT_BOT_HTTP__PORT', '8080'); sys.exit(0 if r.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"]
ENTRYPOINT ["upbit-bot"]
CMD ["run"]
