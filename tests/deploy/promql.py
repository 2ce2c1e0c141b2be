"""The metric names the deploy files may use, and a light check of PromQL expressions.

``METRICS`` is the contract with bot/metrics (docs/metrics.md): each exposed sample name and
its labels. Dashboards and alerts may use only these (and Prometheus' own ``up``).
"""

from __future__ import annotations

import re

METRICS: dict[str, frozenset[str]] = {
    name: frozenset(labels.split()) if labels else frozenset()
    for name, labels in {
        "upbit_bot_orders_total": "side ord_type result",
        "upbit_bot_fills_total": "market side",
        "upbit_bot_fill_volume_krw_total": "market side",
        "upbit_bot_order_rejections_total": "reason market",
        "upbit_bot_book_adjustments_total": "market",
        "upbit_bot_balance_checks_total": "",
        "upbit_bot_orders_suspended": "market",
        "upbit_bot_risk_breaches_total": "check",
        "upbit_bot_rest_request_seconds": "endpoint method",
        "upbit_bot_rest_requests_total": "endpoint method status",
        "upbit_bot_rate_limit_remaining": "group",
        "upbit_bot_ws_reconnects_total": "stream",
        "upbit_bot_ws_message_age_seconds": "stream",
        "upbit_bot_circuit_state": "",
        "upbit_bot_circuit_opens_total": "",
        "upbit_bot_equity_krw": "",
        "upbit_bot_realized_pnl_krw": "",
        "upbit_bot_unrealized_pnl_krw": "",
        "upbit_bot_open_positions": "",
        "upbit_bot_dust_holdings": "",
        "upbit_bot_dust_krw": "",
        "upbit_bot_universe_size": "",
        "upbit_bot_universe_member": "market",
        "upbit_bot_universe_changes_total": "",
        "upbit_bot_trades_closed_total": "result",
        "upbit_bot_commands_total": "command outcome",
        "upbit_bot_notify_queue_depth": "transport",
        "upbit_bot_retention_deleted_total": "table",
        "upbit_bot_notify_failures_total": "transport",
        "upbit_bot_notify_sent_total": "transport",
        "upbit_bot_leader": "",
        "upbit_bot_chat_ready": "platform",
        "upbit_bot_info": "version mode strategy",
        "upbit_bot_loop_lag_seconds": "",
    }.items()
}
HISTOGRAMS = frozenset({"upbit_bot_rest_request_seconds"})
#: labels Prometheus adds to every series (target labels and our relabelling)
TARGET_LABELS = frozenset({"instance", "job", "pod", "namespace", "deployment", "le"})
_NAME = re.compile(r"\bupbit_bot_\w+")
_SELECTOR = re.compile(r"\b(upbit_bot_\w+|up)\s*\{([^}]*)\}")
_MATCHER = re.compile(r'\s*(\w+)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"\s*')


def base_name(sample: str) -> str:
    """``x_bucket`` -> ``x`` for our histograms; other names as they are."""
    for suffix in ("_bucket", "_sum", "_count"):
        if sample.endswith(suffix) and sample.removesuffix(suffix) in HISTOGRAMS:
            return sample.removesuffix(suffix)
    return sample


def metric_names(expr: str) -> set[str]:
    return {base_name(n) for n in _NAME.findall(expr)}


def problems(expr: str) -> list[str]:
    """What is wrong with ``expr``: unknown metrics, unknown labels, unbalanced brackets."""
    out = [f"unknown metric {n}" for n in sorted(metric_names(expr)) if n not in METRICS]
    for name, body in _SELECTOR.findall(expr):
        labels = METRICS.get(base_name(name), frozenset()) | TARGET_LABELS
        rest = body
        while rest.strip():
            m = _MATCHER.match(rest)
            if m is None:
                out.append(f"{name}: cannot read matchers {body!r}")
                break
            if m.group(1) not in labels and name != "up":
                out.append(f"{name} has no label {m.group(1)}")
            rest = rest[m.end() :].lstrip(",")
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # brackets inside strings do not count
    for left, right in ("()", "[]", "{}"):
        depth = 0
        for ch in text:
            depth += (ch == left) - (ch == right)
            if depth < 0:
                break
        if depth != 0:
            out.append(f"unbalanced {left}{right}")
    return out
