"""`python -m zof_async.testing`: serve the emulator on 127.0.0.1."""

from __future__ import annotations

import argparse
import sys

from ._clock import SystemClock
from ._emulator import Emulator
from ._faults import exponential_latency
from ._lifecycle import RunScript
from ._server import bind, serve_forever


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m zof_async.testing",
        description="Serve the Zof API emulator on 127.0.0.1 (real clock, seeded data).",
    )
    parser.add_argument(
        "--port", type=int, default=8765, help="port to listen on (0: any free port)"
    )
    parser.add_argument("--data", choices=["default", "minimal", "empty"], default="default")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--latency", type=float, default=0.0, help="fixed seconds added per response"
    )
    parser.add_argument(
        "--latency-mean", type=float, default=0.0, help="exponential latency mean, seconds"
    )
    parser.add_argument(
        "--error-rate", type=float, default=0.0, help="fraction answered 500/502/503"
    )
    parser.add_argument(
        "--rate-limit", type=float, default=None, help="requests/s per key, then 429"
    )
    parser.add_argument(
        "--rate-limit-burst", type=int, default=10, help="bucket size of --rate-limit"
    )
    parser.add_argument(
        "--outcome",
        choices=["passed", "failed", "error"],
        default=None,
        help="how every run ends (default: each case passes, fails, errors or is skipped"
        " at random, so about half the runs of a 25-case suite fail)",
    )
    parser.add_argument(
        "--queue-seconds", type=float, default=1.0, help="time every run spends queued"
    )
    parser.add_argument(
        "--run-seconds", type=float, default=None, help="duration of every run (after its queue)"
    )
    parser.add_argument("--error-statuses", default="500,502,503", help="statuses of --error-rate")
    parser.add_argument(
        "--bench-results", type=int, default=0, help="seed run_bench with N results"
    )
    parser.add_argument(
        "--throttle-after", type=int, default=0, help="after N requests, 429 to all..."
    )
    parser.add_argument("--throttle-seconds", type=float, default=0.5, help="...for this long...")
    parser.add_argument(
        "--throttle-retry-after", type=float, default=2, help="...with this Retry-After"
    )
    parser.add_argument(
        "--webhook-url",
        action="append",
        default=[],
        metavar="URL",
        help="deliver run.completed webhooks to URL (repeatable); prints each endpoint's secret",
    )
    parser.add_argument(
        "--webhook-secret", help="the secret of --webhook-url endpoints (default: a random whsec_)"
    )
    return parser


INSTALL_HINT = (
    "serving the emulator needs the 'testing' extra: pip install 'zof-async[testing]'"
    " (from a clone: pip install -e '.[testing]')"
)


def main(argv: list[str] | None = None) -> int:
    """Serve until interrupted; exit 2 with an install hint if uvicorn is missing."""
    args = build_parser().parse_args(argv)
    try:
        import uvicorn  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    emulator = Emulator(
        clock=SystemClock(),
        seed=args.seed,
        data=args.data,
        run_script=RunScript(
            outcome=args.outcome,
            queue_seconds=args.queue_seconds,
            duration_seconds=args.run_seconds,
        ),
    )
    if args.latency_mean:
        emulator.faults.latency = exponential_latency(args.latency_mean)
    else:
        emulator.faults.latency = args.latency
    emulator.faults.error_rate = args.error_rate
    emulator.faults.error_statuses = tuple(int(s) for s in args.error_statuses.split(","))
    emulator.faults.rate_limit = args.rate_limit
    emulator.faults.rate_limit_burst = args.rate_limit_burst
    if args.throttle_after:
        emulator.faults.throttle_after(
            args.throttle_after,
            seconds=args.throttle_seconds,
            retry_after=args.throttle_retry_after,
        )
    if args.bench_results:
        emulator.add_bulk_run(args.bench_results)
    sock = bind(args.port)
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    emulator.app_url = base_url  # run `url`s point here, not at the Zof Console
    print(f"Zof emulator on {base_url}", flush=True)
    print(f"  export ZOF_BASE_URL={base_url}", flush=True)
    print(f"  export ZOF_API_KEY={emulator.keys.admin}", flush=True)
    print(f"  (qa: {emulator.keys.qa}, viewer: {emulator.keys.viewer})", flush=True)
    for url in args.webhook_url:
        secret = emulator.add_webhook_endpoint(url, secret=args.webhook_secret)
        print(f"  webhooks to {url}: export ZOF_WEBHOOK_SECRET={secret}", flush=True)
    serve_forever(emulator.app, sock)
    return 0


if __name__ == "__main__":
    sys.exit(main())
