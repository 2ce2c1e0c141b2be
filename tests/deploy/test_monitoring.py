"""Prometheus scrape config, alert rules, Alertmanager and the Grafana dashboard: they parse,
and every expression uses only the bot's metric names (tests/deploy/promql.py), with labels
those metrics have."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.deploy.conftest import ROOT
from tests.deploy.promql import METRICS, metric_names, problems

PROM = ROOT / "deploy" / "prometheus"
DASHBOARD = ROOT / "deploy" / "grafana" / "upbit-bot.json"


def _yaml(path):
    return list(yaml.safe_load_all(path.read_text()))


def _dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def _panels(dash: dict) -> list[dict]:
    out = []
    for p in dash["panels"]:
        out.append(p)
        out.extend(p.get("panels", []))
    return out


def _exprs() -> list[tuple[str, str]]:
    exprs = [
        (f"panel {p['title']}", t["expr"])
        for p in _panels(_dashboard())
        for t in p.get("targets", [])
    ]
    for group in _yaml(PROM / "alerts.yml")[0]["groups"]:
        exprs += [(f"alert {r['alert']}", r["expr"]) for r in group["rules"]]
    return exprs


def test_checker_catches_mistakes():
    assert problems('sum(rate(upbit_bot_orders_total{result="failed"}[5m]))') == []
    assert problems("upbit_bot_rest_request_seconds_bucket") == []
    assert problems('upbit_bot_universe_member{market="KRW-BTC"}') == []
    assert problems('upbit_bot_universe_size{market="KRW-BTC"}') == [
        "upbit_bot_universe_size has no label market"
    ]
    assert problems("upbit_bot_order_total") == ["unknown metric upbit_bot_order_total"]
    assert problems('upbit_bot_orders_total{reason="x"}') == [
        "upbit_bot_orders_total has no label reason"
    ]
    assert problems("sum(rate(upbit_bot_leader[5m])") == ["unbalanced ()"]
    assert problems("upbit_bot_equity_krw_bucket") == [
        "unknown metric upbit_bot_equity_krw_bucket"
    ]


def test_scrape_config_parses_and_scrapes_metrics():
    (cfg,) = _yaml(PROM / "scrape.yml")
    jobs = {job["job_name"]: job for job in cfg["scrape_configs"]}
    assert "upbit-bot" in jobs
    assert all(job["metrics_path"] == "/metrics" for job in jobs.values())
    assert cfg["rule_files"] == ["alerts.yml"]
    assert (PROM / "alerts.yml").is_file()
    keep = jobs["upbit-bot"]["relabel_configs"][0]
    assert keep["source_labels"] == ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"]
    # the annotations it keys on are the Deployment's
    (deployment,) = _yaml(ROOT / "deploy" / "kubernetes" / "deployment.yaml")
    notes = deployment["spec"]["template"]["metadata"]["annotations"]
    assert notes["prometheus.io/scrape"] == "true"
    assert notes["prometheus.io/path"] == "/metrics"
    relabel = jobs["upbit-bot"]["relabel_configs"][2]
    assert re.sub(relabel["regex"], "\\1:\\2", "10.0.0.5:8080;8080") == "10.0.0.5:8080"


def test_operator_monitors_select_the_bot():
    docs = _yaml(PROM / "podmonitor.yaml")
    assert {d["kind"] for d in docs} == {"PodMonitor", "ServiceMonitor"}
    for doc in docs:
        assert doc["apiVersion"] == "monitoring.coreos.com/v1"
        assert doc["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "upbit-bot"}
        endpoints = doc["spec"].get("podMetricsEndpoints") or doc["spec"]["endpoints"]
        assert endpoints[0]["port"] == "http"
        assert endpoints[0]["path"] == "/metrics"


def test_alert_rules_cover_the_failures_that_matter():
    (rules,) = _yaml(PROM / "alerts.yml")
    alerts = {r["alert"]: r for g in rules["groups"] for r in g["rules"]}
    for needed in (
        "UpbitBotDown",
        "UpbitBotCircuitOpen",
        "UpbitBotOrderFailureRate",
        "UpbitBotNoMarketData",
        "UpbitBotStandbyWithoutLeader",
    ):
        assert needed in alerts
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert rule["annotations"]["summary"], name
        assert re.fullmatch(r"\d+[smh]", rule.get("for", "0s")), name
    assert "upbit_bot_circuit_state" in alerts["UpbitBotCircuitOpen"]["expr"]
    assert "upbit_bot_leader" in alerts["UpbitBotStandbyWithoutLeader"]["expr"]


def test_alertmanager_sends_to_slack_with_the_webhook_kept_secret():
    text = (PROM / "alertmanager.yml").read_text()
    (cfg,) = _yaml(PROM / "alertmanager.yml")
    receivers = {r["name"]: r for r in cfg["receivers"]}
    slack = receivers[cfg["route"]["receiver"]]["slack_configs"][0]
    assert slack["api_url_file"].startswith("/etc/alertmanager/secrets/")
    assert "api_url" not in slack
    assert "hooks.slack.com/services/" not in text


@pytest.mark.parametrize(("where", "expr"), _exprs(), ids=[w for w, _ in _exprs()])
def test_expressions_use_only_the_bots_metrics(where, expr):
    assert metric_names(expr) or "up{" in expr, f"{where}: no bot metric"
    assert problems(expr) == [], where


def test_dashboard_is_a_grafana_dashboard_with_the_asked_panels():
    dash = _dashboard()
    assert 36 <= dash["schemaVersion"] <= 41
    assert dash["uid"] == "upbit-bot"
    variables = {v["name"]: v for v in dash["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    panels = _panels(dash)
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids))
    for p in panels:
        if p["type"] != "row":
            assert p["datasource"]["uid"] == "${datasource}", p["title"]
            assert p["targets"], p["title"]
        pos = p["gridPos"]
        assert pos["x"] + pos["w"] <= 24, p["title"]
    titles = " | ".join(p["title"].lower() for p in panels)
    for wanted in (
        "equity",
        "pnl per day",
        "win rate",
        "order failure rate",
        "rest latency p50 / p95",
        "rate-limit headroom",
        "circuit",
        "open positions",
        "commands",
        "notification queue",
        "universe size",
        "universe members",
    ):
        assert wanted in titles
    used = set().union(*(metric_names(e) for _, e in _exprs()))
    assert used <= METRICS.keys()
    universe = {n for n in METRICS if n.startswith("upbit_bot_universe_")}
    assert universe == {
        "upbit_bot_universe_size",
        "upbit_bot_universe_member",
        "upbit_bot_universe_changes_total",
    }
    assert universe <= used  # the market universe (issue #13) is on the dashboard
    latency = next(p for p in panels if "latency" in p["title"].lower())
    assert [t["expr"].split(",")[0] for t in latency["targets"]] == [
        "histogram_quantile(0.5",
        "histogram_quantile(0.95",
    ]
