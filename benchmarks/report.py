"""Turn one benchmark run into results.json, results.md (tables, targets) and chart.png."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _find(rows: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    for row in rows:
        if all(row.get(k) == v for k, v in match.items()):
            return row
    return {}


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if not a or not b else a / b


def targets(data: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """Each target of the benchmark issue, the measured figure, and met or not."""
    fan = data["fanout"]
    out: list[tuple[str, str, bool | None]] = []

    recommended = _find(fan, latency_ms=50.0, concurrency=100, client="zof-aiohttp")
    aio50 = _find(fan, latency_ms=50.0, concurrency=100, client="aiohttp")
    x_ideal = recommended.get("x_ideal")
    out.append(
        (
            "fan-out 50 ms c100: zof (aiohttp transport) ≤ 1.15× ideal",
            f"{x_ideal:.2f}×" if x_ideal else "n/a",
            None if x_ideal is None else x_ideal <= 1.15,
        )
    )
    vs_aio = _ratio(recommended.get("wall"), aio50.get("wall"))
    out.append(
        (
            "fan-out 50 ms c100: zof ≤ 1.10× raw aiohttp's time",
            f"{vs_aio:.2f}×" if vs_aio else "n/a",
            None if vs_aio is None else vs_aio <= 1.10,
        )
    )

    zof_aio0 = _find(fan, latency_ms=0.0, concurrency=100, client="zof-aiohttp")
    aio0 = _find(fan, latency_ms=0.0, concurrency=100, client="aiohttp")
    share = _ratio(zof_aio0.get("req_per_s"), aio0.get("req_per_s"))
    out.append(
        (
            "fan-out 0 ms c100: zof (aiohttp) ≥ 0.6× aiohttp req/s",
            f"{share:.2f}×" if share else "n/a",
            None if share is None else share >= 0.6,
        )
    )
    zof256 = _find(fan, latency_ms=0.0, concurrency=256, client="zof")
    httpx256 = _find(fan, latency_ms=0.0, concurrency=256, client="httpx")
    speedup = _ratio(zof256.get("req_per_s"), httpx256.get("req_per_s"))
    out.append(
        (
            "fan-out 0 ms c256: zof (default transport) ≥ 5× hand-written httpx",
            f"{speedup:.1f}×" if speedup else "n/a",
            None if speedup is None else speedup >= 5,
        )
    )
    zero_failed = zof256.get("failed", 1) == 0
    out.append(
        (
            "fan-out 0 ms c256: zof fails no request",
            f"{zof256.get('failed', 'n/a')} failed (httpx: {httpx256.get('failed', 'n/a')})",
            zero_failed,
        )
    )

    pag = data["paginate"]
    prefetch = _ratio(
        pag.get("peer page loop", {}).get("wall"), pag.get("zof prefetch=1", {}).get("wall")
    )
    out.append(
        (
            "pagination: prefetch ≥ 1.8× faster than the sequential loop",
            f"{prefetch:.2f}×" if prefetch else "n/a",
            None if prefetch is None else prefetch >= 1.8,
        )
    )
    zof0, raw0 = pag.get("zof 0 latency", {}), pag.get("httpx json loop", {})
    items = _ratio(
        zof0.get("items", 0) / zof0["wall"] if zof0.get("wall") else None,
        raw0.get("items", 0) / raw0["wall"] if raw0.get("wall") else None,
    )
    out.append(
        (
            "pagination 0 ms: zof ≥ 0.9× items/s of a raw httpx JSON loop",
            f"{items:.2f}×" if items else "n/a",
            None if items is None else items >= 0.9,
        )
    )
    rss = pag.get("rss", {}).get("rss_growth_mb")
    out.append(
        (
            f"RSS growth streaming {pag['rss_n']:,} results < 50 MB",
            f"{rss:.1f} MB" if rss is not None else "n/a",
            None if rss is None else rss < 50,
        )
    )

    wait = data["waiting"].get("zof-async wait_until_complete", {})
    out.append(
        (
            "waiting: ≤ 120 polls in any 1 s",
            str(wait.get("peak_polls_1s")),
            wait.get("peak_polls_1s", 1e9) <= 120,
        )
    )
    out.append(
        (
            "waiting: ≤ 35 polls per run (mean)",
            f"{wait.get('polls_per_run', 0):.1f}",
            wait.get("polls_per_run", 1e9) <= 35,
        )
    )
    out.append(
        (
            "waiting: detection lag p99 ≤ 15 s",
            f"{wait.get('lag_p99_s', 0):.1f} s",
            wait.get("lag_p99_s", 1e9) <= 15,
        )
    )

    zof_faults = _find(data["faults"], client="zof")
    out.append(
        (
            "faults: 0 items lost or duplicated",
            f"lost {zof_faults.get('lost')}, duplicated {zof_faults.get('duplicates')}",
            zof_faults.get("lost") == 0 and zof_faults.get("duplicates") == 0,
        )
    )
    out.append(
        (
            "faults: requests ≤ 1.10× items",
            f"{zof_faults.get('requests_per_item', 0):.3f}×",
            zof_faults.get("requests_per_item", 9) <= 1.10,
        )
    )
    out.append(
        (
            "faults: no request inside a Retry-After window",
            str(zof_faults.get("sent_inside_retry_after")),
            zof_faults.get("sent_inside_retry_after") == 0,
        )
    )
    return out


def misses(data: dict[str, Any]) -> list[str]:
    """Why each missed target is missed, from this run's own figures."""
    fan = data["fanout"]
    out = []
    met = {name: ok for name, _, ok in targets(data)}
    zof_aio = _find(fan, latency_ms=0.0, concurrency=100, client="zof-aiohttp")
    aio = _find(fan, latency_ms=0.0, concurrency=100, client="aiohttp")
    floor = _find(fan, latency_ms=0.0, concurrency=100, client="aiohttp transport alone")
    if not met.get("fan-out 0 ms c100: zof (aiohttp) ≥ 0.6× aiohttp req/s", True) and zof_aio.get(
        "cpu_us_per_req"
    ):
        out.append(
            f"- **0 ms, aiohttp extra vs raw aiohttp.** The client is CPU-bound on its one core: zof-async "
            f"spends {zof_aio['cpu_us_per_req']:,.0f} µs of CPU per request, raw aiohttp {aio.get('cpu_us_per_req', 0):,.0f} µs. "
            f"The SDK's aiohttp transport alone, called directly with no SDK around it, already spends "
            f"{floor.get('cpu_us_per_req', 0):,.0f} µs ({_ratio(floor.get('req_per_s'), aio.get('req_per_s')) or 0:.2f}× raw aiohttp's rate): "
            "httpx's Request/Response objects and the adaptation to aiohttp. The rest is the SDK's own path "
            "(request building, the retry/deadline/gate pipeline, decoding into models, the fan-out engine): "
            "~260 µs per item measured in-process against a canned transport. Reaching 0.6× would need the SDK to "
            "bypass httpx for the aiohttp path, which the design (one httpx transport seam) does not do."
        )
    zof50 = _find(fan, latency_ms=50.0, concurrency=100, client="zof-aiohttp")
    if zof50.get("x_ideal") and zof50["x_ideal"] > 1.15:
        need = 1e6 * 0.05 / 100
        out.append(
            f"- **50 ms, concurrency 100: {zof50['x_ideal']:.2f}× the ideal, "
            f"{_ratio(zof50.get('wall'), _find(fan, latency_ms=50.0, concurrency=100, client='aiohttp').get('wall')) or 0:.2f}× raw aiohttp.** "
            f"Keeping 100 requests in flight at 50 ms means 2,000 requests/s, i.e. at most {need:,.0f} µs of client CPU per "
            f"request on one core; zof-async spends {zof50['cpu_us_per_req']:,.0f} µs, so it is CPU-bound just above the bound."
        )
    zof256 = _find(fan, latency_ms=0.0, concurrency=256, client="zof")
    peer256 = _find(fan, latency_ms=0.0, concurrency=256, client="httpx")
    if (
        zof256.get("req_per_s")
        and peer256.get("req_per_s")
        and zof256["req_per_s"] < 5 * peer256["req_per_s"]
    ):
        out.append(
            f"- **0 ms, concurrency 256, default transport vs hand-written httpx: "
            f"{zof256['req_per_s'] / peer256['req_per_s']:.1f}×.** The peer managed {peer256['req_per_s']:,.0f} requests/s in "
            "this run (63/s in the measurement the target was set from; its httpcore pool cost per request varies with how "
            f"many connections it ends up holding). zof-async's default transport spends {zof256['cpu_us_per_req']:,.0f} µs of "
            "CPU per request, most of it in httpcore's pure-Python HTTP/1.1; the aiohttp extra is the recommended transport "
            "for fan-out."
        )
    faults = _find(data["faults"], client="zof")
    if faults.get("requests_per_item", 0) > 1.10:
        out.append(
            f"- **Faults: {faults['requests_per_item']:.3f} requests per item.** The 429 burst answers every request of a "
            "fixed window, about a hundred requests in flight at once; at small sizes (quick mode) that is a larger share."
        )
    return out


def _fmt(value: Any, spec: str = ".2f") -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return format(value, spec)
    return str(value)


def markdown(data: dict[str, Any]) -> str:
    lines = [
        f"# zof-async benchmarks ({data['mode']} mode, {data['cores']} cores, {data['seconds']:.0f} s)",
        "",
    ]
    lines += ["## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for name, figure, met in targets(data):
        lines.append(
            f"| {name} | {figure} | {'yes' if met else 'n/a' if met is None else '**no**'} |"
        )
    explained = misses(data)
    if explained:
        lines += ["", "## Where targets are missed, and why", "", *explained]
    lines += [
        "",
        f"## Fan-out: GET /results/{{id}}/artifacts for {data['sizes']['fanout']:,} results",
        "",
    ]
    lines += [
        "| latency | concurrency | client | wall s | req/s | CPU µs/req | × ideal | requests | failed | vs aiohttp |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in data["fanout"]:
        base = _find(
            data["fanout"],
            latency_ms=row["latency_ms"],
            concurrency=row["concurrency"],
            client="aiohttp",
        )
        vs = _ratio(row.get("wall"), base.get("wall"))
        lines.append(
            f"| {row['latency_ms']:.0f} ms | {row['concurrency']} | {row['client']} | {_fmt(row.get('wall'))} | "
            f"{_fmt(row.get('req_per_s'), ',.0f')} | {_fmt(row.get('cpu_us_per_req'), ',.0f')} | {_fmt(row.get('x_ideal'))} | "
            f"{row.get('requests', row.get('error', ''))} | {row.get('failed', '')} | {_fmt(vs)} |"
        )
    pag = data["paginate"]
    lines += [
        "",
        f"## Pagination: {pag['n']:,} results in pages of 100",
        "",
        "| case | wall s | items/s | requests |",
        "|---|---|---|---|",
    ]
    for label in (
        "zof prefetch=1",
        "zof prefetch=0",
        "peer page loop",
        "zof 0 latency",
        "httpx json loop",
    ):
        row = pag.get(label, {})
        rate = row["items"] / row["wall"] if row.get("wall") else None
        lines.append(
            f"| {label} | {_fmt(row.get('wall'))} | {_fmt(rate, ',.0f')} | {row.get('requests', row.get('error', ''))} |"
        )
    rss = pag.get("rss", {})
    lines.append(
        f"\nFirst three rows: 20 ms server latency, and the consumer spends 20 ms per page. "
        f"Streaming {pag['rss_n']:,} results (pages of 1,000, prefetch 1): resident memory "
        f"{rss.get('rss_baseline_mb', 0):.1f} MB after the first page, {rss.get('rss_peak_mb', 0):.1f} MB "
        f"at its peak (growth {rss.get('rss_growth_mb', 0):.1f} MB), "
        f"{rss.get('items', 0) / rss['wall']:,.0f} items/s."
        if rss.get("wall")
        else f"\nRSS run failed: {rss}"
    )
    lines += [
        "",
        f"## Waiting for {data['sizes']['waiters']:,} runs (30 s to 10 min), in virtual time",
        "",
        "| strategy | polls/run | peak polls in 1 s | peak in 100 ms | lag p50 s | lag p99 s |",
        "|---|---|---|---|---|---|",
    ]
    for label, row in data["waiting"].items():
        lines.append(
            f"| {label} | {row['polls_per_run']:.1f} | {row['peak_polls_1s']} | {row['peak_polls_100ms']} | {row['lag_p50_s']:.2f} | {row['lag_p99_s']:.2f} |"
        )
    lines += ["", f"## Faults: fan-out of {data['sizes']['faults']:,} at 50 ms, concurrency 100, 5% 503 and a 429 burst (Retry-After: 2)", "",
              "| client | wall s | requests / item | lost | duplicated | requests inside the Retry-After window |", "|---|---|---|---|---|---|"]  # fmt: skip
    for row in data["faults"]:
        lines.append(
            f"| {row['client']} | {_fmt(row.get('wall'))} | {row.get('requests_per_item', 0):.3f} | {row.get('lost')} | {row.get('duplicates')} | {row.get('sent_inside_retry_after')} |"
        )
    lines += [
        "",
        "Reproduce: `nox -s bench` (or `nox -s bench -- --quick`). Server: the emulator on uvloop + httptools, its own process on core 0; each client its own process on core 1.",
    ]
    return "\n".join(lines) + "\n"


def chart(data: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    clients = ["aiohttp", "zof-aiohttp", "zof", "httpx"]
    configs = [(0.0, 100), (0.0, 256), (50.0, 100), (50.0, 256)]
    width = 0.2
    for i, name in enumerate(clients):
        values = [
            _find(data["fanout"], latency_ms=lat, concurrency=c, client=name).get("req_per_s", 0)
            for lat, c in configs
        ]
        axes[0].bar([x + i * width for x in range(len(configs))], values, width, label=name)
    axes[0].set_xticks(
        [x + 1.5 * width for x in range(len(configs))],
        [f"{lat:.0f} ms, c{c}" for lat, c in configs],
    )
    axes[0].set_ylabel("requests / s (higher is better)")
    axes[0].set_title(f"Fan-out: {data['sizes']['fanout']:,} artifact listings")
    axes[0].legend()
    pag = data["paginate"]
    labels = ["zof prefetch=1", "zof prefetch=0", "peer page loop"]
    axes[1].bar(
        labels,
        [pag.get(k, {}).get("wall", 0) for k in labels],
        color=["tab:green", "tab:orange", "tab:red"],
    )
    axes[1].set_ylabel("seconds (lower is better)")
    axes[1].set_title(f"Streaming {pag['n']:,} results, 20 ms fetch + 20 ms work per page")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def write(data: dict[str, Any], folder: Path) -> None:
    (folder / "results.json").write_text(json.dumps(data, indent=1, default=str))
    (folder / "results.md").write_text(markdown(data))
    chart(data, folder / "chart.png")
