"""``/metrics`` behind the API token (``http.metrics_auth``): what Prometheus sends gets the
series, anything else gets 401; off, it stays open for a plain scrape config (issue #12.6)."""

from __future__ import annotations

import asyncio
import io
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import yaml

from bot.app import App
from bot.config import AppConfig, ConfigError, load_config
from bot.http_server import HttpServer
from bot.metrics import Metrics, metrics_route
from tests.bot.conftest import free_port
from tests.deploy.conftest import ROOT

TOKEN = "metrics-token-0123456789abcdef"


@pytest.fixture
async def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[App]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # the console reads nothing
    config = AppConfig.model_validate(
        {
            "bot": {"mode": "paper", "feed": "replay", "language": "en"},
            "http": {"host": "127.0.0.1", "port": free_port(), "metrics_auth": True},
            "store": {"url": f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"},
            "secrets": {"api_token": TOKEN},
        }
    )
    app = App(config, asyncio.Event())
    try:
        await app.start()
        yield app
    finally:
        await app.stop()


async def test_the_running_bot_serves_metrics_only_with_the_token(app: App) -> None:
    assert app.http is not None
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{app.http.port}") as http:
        bare = await http.get("/metrics")
        assert bare.status_code == 401
        assert bare.headers["WWW-Authenticate"].startswith("Bearer")
        assert "upbit_bot_equity_krw" not in bare.text
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        assert right.status_code == 200
        assert "upbit_bot_equity_krw" in right.text
        # the probes stay open: the kubelet holds no token
        assert (await http.get("/healthz")).status_code == 200


async def test_without_the_switch_metrics_stay_open(metrics: Metrics) -> None:
    server = HttpServer("127.0.0.1", 0, routes=[metrics_route(metrics)])
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as http:
            assert (await http.get("/metrics")).status_code == 200
    finally:
        await server.stop()


def test_the_switch_without_a_token_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[http]\nmetrics_auth = true\n", encoding="utf-8")
    with pytest.raises(
        ConfigError, match=r"http.metrics_auth = true: requires UPBIT_BOT_API_TOKEN"
    ):
        load_config(path, environ={})
    assert load_config(path, environ={"UPBIT_BOT_API_TOKEN": TOKEN}).http.metrics_auth


def test_the_deploy_files_scrape_with_the_token() -> None:
    """The Kubernetes config turns the switch on, and both ways Prometheus is told to
    scrape send the token."""
    (configmap,) = yaml.safe_load_all((ROOT / "deploy/kubernetes/configmap.yaml").read_text())
    assert "metrics_auth = true" in configmap["data"]["config.toml"]
    (scrape,) = yaml.safe_load_all((ROOT / "deploy/prometheus/scrape.yml").read_text())
    for job in scrape["scrape_configs"]:
        assert job["authorization"]["type"] == "Bearer"
        assert job["authorization"]["credentials_file"]
    for monitor in yaml.safe_load_all((ROOT / "deploy/prometheus/podmonitor.yaml").read_text()):
        spec = monitor["spec"]
        for endpoint in spec.get("podMetricsEndpoints") or spec["endpoints"]:
            assert endpoint["authorization"]["credentials"]["key"] == "UPBIT_BOT_API_TOKEN"
