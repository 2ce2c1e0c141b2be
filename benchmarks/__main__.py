"""Print the benchmark figures: ``python -m benchmarks [--quick] [--runs N]``."""

from __future__ import annotations

import argparse
import statistics

from benchmarks import order_latency, rate_limit


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--runs", type=int, default=3, help="runs per benchmark (median shown)")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of flat-out calls")
    parser.add_argument("--calls", type=int, default=2000, help="order calls per latency run")
    parser.add_argument("--quick", action="store_true", help="1 run, 5 s, 300 calls")
    args = parser.parse_args()
    if args.quick:
        args.runs, args.duration, args.calls = 1, 5.0, 300

    print(f"rate limiter: {args.runs} run(s) of {args.duration:.0f} s flat-out private calls")
    runs = [rate_limit.run_once(args.duration) for _ in range(args.runs)]
    for group in ("default", "order"):
        ratios = [r.ratio(group) for r in runs]
        rate = rate_limit.RATE_LIMITS[group]
        print(
            f"  {group:8s} allowed {rate:4.0f}/s  achieved median {statistics.median(ratios):6.1%}"
            f"  (runs: {', '.join(f'{x:.1%}' for x in ratios)})  target >= 90%"
        )
    print(
        f"  fake answered 429: {[r.server_429 for r in runs]}  418: "
        f"{[r.server_418 for r in runs]}  target 0"
    )

    print(f"signed order call: {args.runs} run(s) of {args.calls} sequential POST /v1/orders")
    figures = order_latency.summary([order_latency.run_once(args.calls) for _ in range(args.runs)])
    print(
        f"  client CPU per call  p50 {figures['cpu_p50_ms']:.3f} ms  "
        f"p99 {figures['cpu_p99_ms']:.3f} ms  target p99 < 3 ms"
    )
    print(
        f"  wall per call        p50 {figures['wall_p50_ms']:.3f} ms  "
        f"p99 {figures['wall_p99_ms']:.3f} ms  (includes the fake, another process)"
    )
    print(f"  JWT signing alone    {figures['sign_us']:.1f} us")


if __name__ == "__main__":
    main()
