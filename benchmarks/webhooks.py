"""Waiting for 1,000 runs with webhooks (`events=inbox`) against polling only, in virtual time.

    python benchmarks/webhooks.py [N]        (default 1000; writes results/webhooks.{md,json,png})
    python benchmarks/webhooks.py --served   (real HTTP on 127.0.0.1; writes results/webhooks-served.json)

1,000 runs finish at random times between 30 s and 10 min. Everything runs
under trio's MockClock with the in-process emulator on a LoopClock; the
emulator's webhook pump delivers `run.completed` through `webhooks_asgi_app`
into a `WebhookInbox` over an in-process ASGI transport. Each scenario sees
exactly the same runs. Virtual time has no network: the event lag measured
here is the pump's, not a network's (the served end-to-end test measures
real HTTP on 127.0.0.1).

Scenarios: polling only (the default `WaitPolicy`), events (fallback polling
at `EVENTS_POLICY`), and events with 10% of webhooks lost and 10% duplicated.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
from pathlib import Path

import httpx
import trio
import trio.testing

from zof_async import AsyncZof, WebhookInbox, Webhooks, webhooks_asgi_app
from zof_async.testing import Emulator, LoopClock, RunScript, Stats

RESULTS = Path(__file__).parent / "results"
SECRET = "whsec_YmVuY2htYXJrLXNlY3JldC0wMTIzNDU2Nzg5YWI="


def _setup(
    n: int, *, seed: int, events: bool, drop: float
) -> tuple[Emulator, list[str], WebhookInbox]:
    emulator = Emulator(data="minimal", clock=LoopClock())
    emulator.stats = Stats(log_size=5_000_000)
    inbox = WebhookInbox(Webhooks(secret=SECRET), clock=emulator.clock.now)
    if events:
        emulator.add_webhook_endpoint(
            "http://receiver/zof-webhooks",
            secret=SECRET,
            transport=httpx.ASGITransport(app=webhooks_asgi_app(inbox)),
        )
        emulator.webhook_faults.drop_rate = drop
        emulator.webhook_faults.duplicate_rate = drop
    rng = random.Random(seed)
    cases = emulator.state.store.projects["proj_abc"].case_ids[:5]
    ids = []
    for _ in range(n):
        script = RunScript(queue_seconds=0, duration_seconds=rng.uniform(30, 600), outcome="passed")
        ids.append(emulator.add_run("proj_abc", cases=cases, script=script).id)
    emulator.stats.reset()
    return emulator, ids, inbox


def _measure(n: int, *, events: bool, drop: float = 0.0) -> dict[str, float]:
    async def main() -> dict[str, float]:
        emulator, ids, inbox = _setup(n, seed=42, events=events, drop=drop)
        noticed: dict[str, float] = {}
        async with (
            AsyncZof(
                api_key=emulator.keys.viewer, transport=emulator.transport(), max_connections=n
            ) as zof,
            emulator.delivering(),
        ):

            async def wait(run_id: str) -> None:
                await zof.runs.wait_until_complete(
                    run_id, timeout=3600, events=inbox if events else None
                )
                noticed[run_id] = emulator.clock.now()

            async with trio.open_nursery() as nursery:
                for run_id in ids:
                    nursery.start_soon(wait, run_id)
        polls = sum(1 for r in emulator.stats.log if r.route == "/runs/{id}")
        lags = sorted(noticed[i] - emulator.state.store.runs[i].completed for i in ids)  # type: ignore[operator]
        return {
            "runs": n,
            "polls": polls,
            "polls_per_run": polls / n,
            "lag_p50_s": statistics.median(lags),
            "lag_p99_s": lags[int(0.99 * (len(lags) - 1))],
            "lag_max_s": lags[-1],
            "webhooks_received": inbox.stats.received,
            "duplicates_dropped": inbox.stats.duplicates,
        }

    return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))


def run(n: int) -> dict[str, dict[str, float]]:
    scenarios = {
        "polling only": {"events": False},
        "events (webhooks)": {"events": True},
        "events, 10% lost + 10% duplicated": {"events": True, "drop": 0.1},
    }
    out = {}
    for label, options in scenarios.items():
        out[label] = _measure(n, **options)  # type: ignore[arg-type]
        print(f"  {label:<36} {out[label]}", flush=True)
    return out


def write(results: dict[str, dict[str, float]]) -> None:
    base = results["polling only"]
    events = results["events (webhooks)"]
    lines = [
        f"# Waiting for {base['runs']:,} runs: webhooks against polling only",
        "",
        "Virtual time (trio MockClock), runs finishing between 30 s and 10 min;",
        "`python benchmarks/webhooks.py`. Lag: from a run's completion to its wait returning.",
        "",
        "| scenario | polls | polls/run | lag p50 | lag p99 | lag max | webhooks in | duplicates |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, r in results.items():
        lines.append(
            f"| {label} | {r['polls']:,.0f} | {r['polls_per_run']:.1f} | {r['lag_p50_s']:.2f} s "
            f"| {r['lag_p99_s']:.2f} s | {r['lag_max_s']:.2f} s | {r['webhooks_received']:,.0f} "
            f"| {r['duplicates_dropped']:,.0f} |"
        )
    lines += [
        "",
        f"With webhooks: {base['polls'] / max(events['polls'], 1):.1f}x fewer polls "
        f"({1 - events['polls'] / base['polls']:.0%} saved), p99 lag "
        f"{events['lag_p99_s']:.2f} s instead of {base['lag_p99_s']:.2f} s.",
    ]
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "webhooks.md").write_text("\n".join(lines) + "\n")
    (RESULTS / "webhooks.json").write_text(json.dumps(results, indent=2) + "\n")
    print("\n".join(lines))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(no matplotlib: no chart; nox -s bench installs it)")
        return
    labels = list(results)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    x = range(len(labels))
    left.bar([i - 0.2 for i in x], [results[k]["lag_p50_s"] for k in labels], 0.4, label="p50")
    left.bar([i + 0.2 for i in x], [results[k]["lag_p99_s"] for k in labels], 0.4, label="p99")
    left.set_title("detection lag (s)")
    left.legend()
    right.bar(x, [results[k]["polls_per_run"] for k in labels], 0.5, color="tab:gray")
    right.set_title("polls per run")
    for axis in (left, right):
        axis.set_xticks(list(x), [label.replace(", ", ",\n") for label in labels], fontsize=8)
    fig.suptitle(f"{base['runs']:,} concurrent waits, runs ending between 30 s and 10 min")
    fig.tight_layout()
    fig.savefig(RESULTS / "webhooks.png", dpi=110)
    print(f"chart: {RESULTS / 'webhooks.png'}")


def served(n: int = 200) -> dict[str, float]:
    """Event lag over real HTTP: the served emulator (SystemClock, its own thread)
    delivers to `webhooks_asgi_app` served by uvicorn in this event loop, where
    `n` waits (`events=inbox`) run; runs end 1 to 3 s after they start."""
    import socket
    import time
    from functools import partial

    import anyio
    import uvicorn

    from zof_async import WaitPolicy
    from zof_async.testing import SystemClock

    async def main() -> dict[str, float]:
        emulator = Emulator(data="minimal", clock=SystemClock(), poll_hint=None)
        inbox = WebhookInbox(Webhooks(secret=SECRET))
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.bind(("127.0.0.1", 0))
        sock.listen(512)
        config = uvicorn.Config(
            webhooks_asgi_app(inbox), log_level="warning", access_log=False, lifespan="off"
        )
        server = uvicorn.Server(config)
        lags: list[float] = []
        rng = random.Random(1)
        async with anyio.create_task_group() as tg, emulator.serve() as base_url:
            tg.start_soon(partial(server.serve, sockets=[sock]))
            while not server.started:  # noqa: ASYNC110 - uvicorn offers no event
                await anyio.sleep(0.01)
            emulator.add_webhook_endpoint(
                f"http://127.0.0.1:{sock.getsockname()[1]}/", secret=SECRET
            )
            async with AsyncZof(
                api_key=emulator.keys.qa, base_url=base_url, max_connections=n
            ) as zof:

                async def wait(run_id: str) -> None:
                    policy = WaitPolicy(initial_interval=5, max_interval=60, growth=2)
                    await zof.runs.wait_until_complete(run_id, events=inbox, policy=policy)
                    lags.append(time.time() - emulator.state.store.runs[run_id].completed)  # type: ignore[operator]

                async with anyio.create_task_group() as waits:
                    for _ in range(n):  # each wait starts as soon as its run exists
                        emulator.script_next_run(
                            queue_seconds=0, duration_seconds=rng.uniform(1, 3)
                        )
                        run = await zof.runs.create(
                            project_id="proj_abc", environment="staging",
                            test_case_ids=["tc_proj_abc_00000"],
                        )  # fmt: skip
                        waits.start_soon(wait, run.id)
            server.should_exit = True
        sock.close()
        lags.sort()
        polls = emulator.stats.count(route="/runs/{id}")
        return {
            "runs": n,
            "polls_per_run": polls / n,
            "lag_p50_ms": 1000 * statistics.median(lags),
            "lag_p99_ms": 1000 * lags[int(0.99 * (len(lags) - 1))],
            "lag_max_ms": 1000 * lags[-1],
        }

    result = anyio.run(main)
    print(f"  served, real HTTP on 127.0.0.1: {result}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "webhooks-served.json").write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    if "--served" in sys.argv:
        served()
    else:
        write(run(int(sys.argv[1]) if len(sys.argv) > 1 else 1000))
