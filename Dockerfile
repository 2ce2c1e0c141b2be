# syntax=docker/dockerfile:1
# Build stage: a wheel of the project and its runtime dependencies only.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY trading ./trading
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

# Runtime stage: slim Python, a non-root user, config and data as volumes.
FROM python:3.11-slim
RUN useradd --create-home --uid 10001 bot
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
USER bot
WORKDIR /home/bot
VOLUME ["/home/bot/data", "/config"]
ENV UPBIT_BOT_HTTP__HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"
ENTRYPOINT ["upbit-bot"]
CMD ["run", "--config", "/config/config.toml"]
