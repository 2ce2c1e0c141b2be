"""Print the benchmark figures: ``python -m benchmarks [--quick] [--runs N] [--only NAMES]``.

Each benchmark runs ``--runs`` times and the median is shown, with every run's figure beside.
"""

from __future__ import annotations

import argparse
import statistics

from benchmarks import (
    backtest_compare,
    backtest_speed,
    chat_roundtrip,
    defaults_walkforward,
    engine_load,
    optimize_speed,
    order_latency,
    push_burst,
    rate_limit,
    soak,
    tick_to_order,
)

ALL = (
    "rate",
    "latency",
    "tick",
    "load",
    "chat",
    "burst",
    "backtest",
    "backtest-speed",
    "optimize",
    "soak",
    "defaults",
)


def bench_rate(runs: int, duration: float) -> None:
    print(f"rate limiter: {runs} run(s) of {duration:.0f} s flat-out private calls")
    results = [rate_limit.run_once(duration) for _ in range(runs)]
    for group in ("default", "order"):
        ratios = [r.ratio(group) for r in results]
        rate = rate_limit.RATE_LIMITS[group]
        print(
            f"  {group:8s} allowed {rate:4.0f}/s  achieved median {statistics.median(ratios):6.1%}"
            f"  (runs: {', '.join(f'{x:.1%}' for x in ratios)})  target >= 90%"
        )
    print(
        f"  fake answered 429: {[r.server_429 for r in results]}  418: "
        f"{[r.server_418 for r in results]}  target 0"
    )


def bench_latency(runs: int, calls: int) -> None:
    print(f"signed order call: {runs} run(s) of {calls} sequential POST /v1/orders")
    figures = order_latency.summary([order_latency.run_once(calls) for _ in range(runs)])
    print(
        f"  client CPU per call  p50 {figures['cpu_p50_ms']:.3f} ms  "
        f"p99 {figures['cpu_p99_ms']:.3f} ms  target p99 < 3 ms"
    )
    print(
        f"  wall per call        p50 {figures['wall_p50_ms']:.3f} ms  "
        f"p99 {figures['wall_p99_ms']:.3f} ms  (includes the fake, another process)"
    )
    print(f"  JWT signing alone    {figures['sign_us']:.1f} us")


def bench_tick(runs: int, rounds: int) -> None:
    print(f"tick to order: {runs} run(s) of {rounds} stop-crossing prints (live engine, SQLite)")
    results = [tick_to_order.run_once(rounds) for _ in range(runs)]
    figures = tick_to_order.summary(results)
    print(
        f"  print in the inbox -> POST at the fake  p50 {figures['p50_ms']:.2f} ms  "
        f"p99 {figures['p99_ms']:.2f} ms  target p99 < 5 ms"
    )


def bench_load(runs: int, duration: float) -> None:
    print(
        f"load: {runs} run(s), {len(engine_load.MARKETS)} markets x "
        f"{engine_load.RATE_PER_MARKET} trades/s for {duration:.0f} s (paper engine, 1s candles)"
    )
    results = [engine_load.run_once(duration, seed=7 + n) for n in range(runs)]
    shares = [r.core_share for r in results]
    print(
        f"  CPU of one core  median {statistics.median(shares):.1%} "
        f"(runs: {', '.join(f'{s:.1%}' for s in shares)})  target < 50%"
    )
    print(
        f"  peak RSS  {max(r.peak_rss_mb for r in results):.0f} MB  target < 200 MB;  "
        f"prints sent {sum(r.prints for r in results)}, inbox items handled "
        f"{sum(r.handled for r in results)} (prints + order events)"
    )
    worst = max(max(r.backlog, default=0) for r in results)
    last = [r.backlog[-1] if r.backlog else 0 for r in results]
    print(f"  inbox backlog  worst {worst}, at the end {last}  (one 50 ms batch = 200)")


def bench_chat(runs: int, rounds: int) -> None:
    print(
        f"chat round trip: {runs} run(s) of {rounds} commands via the fake Telegram, "
        "10,000 fills stored"
    )
    figures = chat_roundtrip.summary([chat_roundtrip.run_once(rounds) for _ in range(runs)])
    print(
        f"  update in -> reply out  p50 {figures['p50_ms']:.1f} ms  "
        f"p99 {figures['p99_ms']:.1f} ms  target p99 < 100 ms"
    )


def bench_burst(runs: int) -> None:
    print(f"push burst: {runs} run(s) of 1,000 critical events to Telegram and Slack")
    for r in [push_burst.run_once(1000) for _ in range(runs)]:
        print(
            f"  delivered telegram {r.telegram_seen}/{r.events} in {r.telegram_messages} msgs, "
            f"slack {r.slack_seen}/{r.events} in {r.slack_messages} msgs; "
            f"429s {r.telegram_429}/{r.slack_429}; {r.seconds:.1f} s  target all, 0 x 429"
        )


def bench_backtest(runs: int, quick: bool) -> None:
    backtest_compare.run(runs, quick)


def bench_backtest_speed(runs: int, quick: bool) -> None:
    backtest_speed.main(["--runs", str(max(runs, 5)), *(["--quick"] if quick else [])])


def bench_optimize(runs: int, trials: int) -> None:
    print(
        f"optimize: {runs} run(s) of {trials} trials, ma_cross, "
        f"{optimize_speed.MONTH_BARS:,} 1-minute candles, SQLite study"
    )
    for jobs in (1, 2):
        results = [optimize_speed.run_once(trials, jobs, seed=1 + n) for n in range(runs)]
        figures = optimize_speed.summary(results)
        print(
            f"  {jobs} worker(s)  median {figures['per_second']:6.1f} trials/s "
            f"({figures['seconds']:.1f} s), {figures['per_cpu_second']:.1f} trials per "
            f"CPU-second, {figures['pruned']:.0f} pruned  (runs: "
            f"{', '.join(f'{r.per_second:.1f}' for r in results)})"
        )


def bench_soak(runs: int, days: int) -> None:
    print(
        f"soak: {runs} run(s) of {days} simulated days, {soak.MARKETS} markets, paper engine, "
        "pushes and /status through the fake Telegram and Slack, daily report and retention"
    )
    for line in soak.report([soak.run_once(days, seed=11 + n) for n in range(runs)]):
        print(line)


def bench_defaults(quick: bool) -> None:
    trials = defaults_walkforward.QUICK_TRIALS if quick else defaults_walkforward.TRIALS
    defaults_walkforward.run(trials)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--runs", type=int, default=3, help="runs per benchmark (median shown)")
    parser.add_argument("--duration", type=float, default=30.0, help="rate-limit run seconds")
    parser.add_argument("--calls", type=int, default=2000, help="order calls per latency run")
    parser.add_argument("--rounds", type=int, default=500, help="stop crossings per tick run")
    parser.add_argument("--load-duration", type=float, default=60.0, help="load run seconds")
    parser.add_argument("--chat-rounds", type=int, default=300, help="commands per chat run")
    parser.add_argument("--trials", type=int, default=200, help="trials per optimize run")
    parser.add_argument("--soak-days", type=int, default=30, help="simulated days per soak run")
    parser.add_argument("--only", default=",".join(ALL), help=f"comma list of {', '.join(ALL)}")
    parser.add_argument("--quick", action="store_true", help="1 short run of each")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.duration, args.calls = 1, 5.0, 300
        args.rounds, args.load_duration, args.chat_rounds = 100, 10.0, 50
        args.trials, args.soak_days = 40, 7
    chosen = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(chosen) - set(ALL))
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(ALL)}")
    if "rate" in chosen:
        bench_rate(args.runs, args.duration)
    if "latency" in chosen:
        bench_latency(args.runs, args.calls)
    if "tick" in chosen:
        bench_tick(args.runs, args.rounds)
    if "load" in chosen:
        bench_load(args.runs, args.load_duration)
    if "chat" in chosen:
        bench_chat(args.runs, args.chat_rounds)
    if "burst" in chosen:
        bench_burst(args.runs)
    if "backtest" in chosen:
        bench_backtest(args.runs, args.quick)
    if "backtest-speed" in chosen:
        bench_backtest_speed(args.runs, args.quick)
    if "optimize" in chosen:
        bench_optimize(args.runs, args.trials)
    if "soak" in chosen:
        bench_soak(args.runs, args.soak_days)
    if "defaults" in chosen:
        bench_defaults(args.quick)


if __name__ == "__main__":
    main()
