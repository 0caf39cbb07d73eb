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


SETTINGS = [(0.0, 100), (0.0, 256), (50.0, 100), (50.0, 256)]
Row = tuple[str, str, str, str, str, bool | None]  # measure, zof, base, ratio, target, met


def _fan(data: dict[str, Any], latency: float, concurrency: int, name: str) -> dict[str, Any]:
    return _find(data["fanout"]["rows"], latency_ms=latency, concurrency=concurrency, client=name)


def _x(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}×"


def _us(row: dict[str, Any]) -> str:
    value = row.get("cpu_us_per_req")
    return "n/a" if value is None else f"{value:,.0f} µs"


def _cpu_rows(data: dict[str, Any], name: str, bound: float) -> list[Row]:
    rows: list[Row] = []
    for latency, concurrency in SETTINGS:
        zof, raw = (
            _fan(data, latency, concurrency, name),
            _fan(data, latency, concurrency, "aiohttp"),
        )
        ratio = _ratio(zof.get("cpu_us_per_req"), raw.get("cpu_us_per_req"))
        rows.append((f"CPU/request, {latency:.0f} ms c{concurrency}", _us(zof), _us(raw), _x(ratio),
                     f"≤ {bound}×", None if ratio is None else ratio <= bound))  # fmt: skip
    return rows


def issue_targets(data: dict[str, Any]) -> dict[str, list[Row]]:
    """Issue 15's targets, one table each: zof-async against raw aiohttp, same run."""
    tables: dict[str, list[Row]] = {}
    rows = _cpu_rows(data, "zof-aiohttp", 1.6)
    zof, raw = _fan(data, 50.0, 100, "zof-aiohttp"), _fan(data, 50.0, 100, "aiohttp")
    wall = _ratio(zof.get("wall"), raw.get("wall"))
    rows.append(("wall time, 50 ms c100", _s(zof.get("wall")), _s(raw.get("wall")), _x(wall),
                 "≤ 1.10×", None if wall is None else wall <= 1.10))  # fmt: skip
    tables['zof-async on `transport="aiohttp"` vs raw aiohttp'] = rows

    rows = _cpu_rows(data, "zof", 3.0)
    for latency in (0.0, 50.0):
        zof, peer = _fan(data, latency, 256, "zof"), _fan(data, latency, 256, "httpx")
        speed = _ratio(zof.get("req_per_s"), peer.get("req_per_s"))
        rows.append((f"requests/s vs hand-written httpx, {latency:.0f} ms c256",
                     _rate(zof.get("req_per_s")), f"httpx {_rate(peer.get('req_per_s'))}",
                     _x(speed), "≥ 5×", None if speed is None else speed >= 5))  # fmt: skip
    failed = [_fan(data, lat, c, "zof").get("failed") for lat, c in SETTINGS]
    ok = all(f == 0 for f in failed)
    rows.append(("failed requests, all settings and rounds", str(sum(f or 0 for f in failed)),
                 "", "", "0", ok))  # fmt: skip
    tables["zof-async on the default transport"] = rows

    zero = data["paginate"].get("zero latency", {})
    raw_rate = zero.get("aiohttp+orjson+cattrs", {}).get("items_per_s")
    rows = []
    for name, label in (("zof", "default transport"), ("zof-aiohttp", "aiohttp transport")):
        rate = zero.get(name, {}).get("items_per_s")
        share = _ratio(rate, raw_rate)
        rows.append((f"items/s at 0 ms, {label}", _rate(rate), _rate(raw_rate), _x(share),
                     "≥ 0.8×", None if share is None else share >= 0.8))  # fmt: skip
    tables["Pagination vs raw aiohttp + orjson building the same attrs models"] = rows

    memory = data["fanout"].get("memory_per_request", {})
    rows = []
    for name, label in (("zof-aiohttp", "aiohttp transport"), ("zof", "default transport")):
        share = _ratio(memory.get(name), memory.get("aiohttp"))
        rows.append((f"heap per in-flight request, {label}", _kb(memory.get(name)),
                     _kb(memory.get("aiohttp")), _x(share), "≤ 2×",
                     None if share is None else share <= 2))  # fmt: skip
    imports = data.get("imports", {})
    added = imports.get("added_ms")
    rows.append(("`import zof_async` over `import httpx`", _ms(imports.get("zof_async")),
                 f"httpx {_ms(imports.get('httpx'))}", "n/a" if added is None else f"+{added:.0f} ms",
                 "≤ +60 ms", None if added is None else added <= 60))  # fmt: skip
    tables["Memory and import time"] = rows
    return tables


def _s(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}/s"


def _kb(value: float | None) -> str:
    return "n/a" if value is None else f"{value / 1024:.1f} KiB"


def _ms(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 1000:.0f} ms"


def targets(data: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    """The earlier targets (waiting, faults, prefetch, memory while streaming)."""
    out: list[tuple[str, str, bool | None]] = []
    recommended = _fan(data, 50.0, 100, "zof-aiohttp")
    x_ideal = recommended.get("x_ideal")
    out.append(
        (
            "fan-out 50 ms c100: zof (aiohttp transport) ≤ 1.15× ideal",
            f"{x_ideal:.2f}×" if x_ideal else "n/a",
            None if x_ideal is None else x_ideal <= 1.15,
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


def why(data: dict[str, Any], table: str, row: Row) -> str:
    """One line on why a target row is missed, from this run's own figures."""
    measure = row[0]
    if measure.startswith("CPU/request"):
        latency, concurrency = _setting(measure)
        raw = _fan(data, latency, concurrency, "aiohttp").get("cpu_us_per_req") or 0
        alone = _fan(data, latency, concurrency, "aiohttp transport alone").get("cpu_us_per_req")
        sdk = _fan(data, latency, concurrency, "zof-aiohttp").get("cpu_us_per_req") or 0
        if "default" in table:
            zof = _fan(data, latency, concurrency, "zof").get("cpu_us_per_req") or 0
            return (f"httpcore's pure-Python HTTP/1.1 costs {zof - sdk:,.0f} µs/request more than the "
                    f"aiohttp transport ({zof:,.0f} vs {sdk:,.0f} µs); raw aiohttp spends {raw:,.0f} µs.")  # fmt: skip
        alone = alone or 0
        room = 1.6 * raw - alone
        around = (f"the SDK around it (pipeline with its deadline scope and pool slot, fan-out "
                  f"engine, decoding) {sdk - alone:,.0f} µs more, where 1.6× leaves it {room:,.0f} µs"
                  if room > 0 else
                  f"already past 1.6× on its own; the whole SDK measured {sdk:,.0f} µs (medians of "
                  "separate rounds, so the two differ by the rounds' noise too)")  # fmt: skip
        return (f"raw aiohttp {raw:,.0f} µs; the SDK's aiohttp transport alone (httpx Request/Response "
                f"objects around aiohttp's `session.request`) {alone:,.0f} µs "
                f"({_x(_ratio(alone, raw))} raw); {around}.")  # fmt: skip
    if measure.startswith("wall time"):
        sdk = _fan(data, 50.0, 100, "zof-aiohttp")
        return (f"keeping 100 requests in flight at 50 ms needs ≤ 500 µs of client CPU per request on one "
                f"core; the SDK spends {sdk.get('cpu_us_per_req') or 0:,.0f} µs, so it is CPU-bound "
                f"({_x(sdk.get('x_ideal'))} the Little's-law ideal).")  # fmt: skip
    if measure.startswith("requests/s"):
        return (
            "the default transport spends its CPU in httpcore; the hand-written httpx client is "
            "slow mostly through httpcore's pool at high concurrency, which varies run to run."
        )
    if measure.startswith("items/s"):
        zero = data["paginate"].get("zero latency", {})
        name = "zof-aiohttp" if "aiohttp" in measure else "zof"
        ours = zero.get(name, {}).get("cpu_us_per_item") or 0
        peer = zero.get("aiohttp+orjson+cattrs", {}).get("cpu_us_per_item") or 0
        via = zero.get("zof-aiohttp", {}).get("cpu_us_per_item") or 0
        where = (f"of which {(ours - via) * 100:,.0f} µs is httpcore's pure-Python HTTP/1.1 (the SDK on "
                 f"its aiohttp transport spends {via:.1f} µs per item)"
                 if name == "zof" and via else
                 "the request through httpx objects, the pipeline and the prefetch task")  # fmt: skip
        return (f"{ours:.1f} µs of CPU per item against the peer's {peer:.1f}: per page of 100, "
                f"{(ours - peer) * 100:,.0f} µs more, {where}; decoding a page into models costs "
                "about what the peer's cattrs does.")  # fmt: skip
    if measure.startswith("heap"):
        return (
            "each in-flight request holds httpx Request/Response objects, its pipeline and "
            "fan-out coroutine frames, and a deadline timer."
        )
    if measure.startswith("`import"):
        return "attrs, anyio and the SDK's own modules (models, pipeline, resources) load eagerly."
    return "see the figures above."


def _setting(measure: str) -> tuple[float, int]:
    latency, concurrency = measure.rsplit(", ", 1)[1].split(" ms c")
    return float(latency), int(concurrency)


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
    for title, rows in issue_targets(data).items():
        lines += [f"## Target: {title}", "", "| measure | zof-async | raw aiohttp | ratio | target | met |",
                  "|---|---|---|---|---|---|"]  # fmt: skip
        for row in rows:
            met = row[5]
            lines.append(
                f"| {' | '.join(row[:5])} | {'yes' if met else 'n/a' if met is None else '**no**'} |"
            )
        missed = [row for row in rows if row[5] is False]
        if missed:
            lines += ["", *(f"- Missed, {row[0]}: {why(data, title, row)}" for row in missed)]
        lines.append("")
    lines += ["## Earlier targets", "", "| target | measured | met |", "|---|---|---|"]
    for name, figure, met in targets(data):
        lines.append(
            f"| {name} | {figure} | {'yes' if met else 'n/a' if met is None else '**no**'} |"
        )
    fan = data["fanout"]
    lines += [
        "",
        f"## Fan-out: GET /results/{{id}}/artifacts for {data['sizes']['fanout']:,} results",
        "",
        f"All clients in one process per server latency, {fan['rounds']} interleaved rounds; each "
        "figure is the median over the rounds. CPU is the client process's user + system time. "
        "The hand-written httpx client sends a fifth of the requests (per-request figures). "
        "`aiohttp transport alone`: the SDK's aiohttp transport called directly, no SDK around it; "
        "`zof-httpx-aiohttp`: the SDK over the httpx-aiohttp package's transport.",
        "",
        "| latency | concurrency | client | wall s | req/s | CPU µs/req | CPU vs aiohttp | CPU µs/req per round | × ideal | requests | failed |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in fan["rows"]:
        base = _fan(data, row["latency_ms"], row["concurrency"], "aiohttp")
        vs = _ratio(row.get("cpu_us_per_req"), base.get("cpu_us_per_req"))
        lines.append(
            f"| {row['latency_ms']:.0f} ms | {row['concurrency']} | {row['client']} | {_fmt(row.get('wall'))} | "
            f"{_fmt(row.get('req_per_s'), ',.0f')} | {_fmt(row.get('cpu_us_per_req'), ',.0f')} | {_fmt(vs)} | "
            f"{', '.join(f'{v:.0f}' for v in row.get('cpu_us_rounds', []))} | {_fmt(row.get('x_ideal'))} | "
            f"{row.get('requests', row.get('error', ''))} | {row.get('failed', '')} |"
        )
    memory = fan.get("memory_per_request", {})
    lines += [
        "",
        "Heap per in-flight request: tracemalloc's peak of Python allocations during a fan-out of "
        "512 at 50 ms latency and concurrency 256, above the heap before it, over 256: "
        + ", ".join(f"{name} {_kb(value)}" for name, value in memory.items() if value is not None)
        + ".",
    ]
    imports = data.get("imports", {})
    if imports:
        lines.append(
            f"\nImport time, best of {imports['best_of']} fresh interpreters: `import httpx` "
            f"{_ms(imports['httpx'])}, `import zof_async` {_ms(imports['zof_async'])}."
        )
    pag = data["paginate"]
    lines += [
        "",
        f"## Pagination: {pag['n']:,} results in pages of 100",
        "",
        "| case | wall s | items/s | requests |",
        "|---|---|---|---|",
    ]
    for label in ("zof prefetch=1", "zof prefetch=0", "peer page loop"):
        row = pag.get(label, {})
        rate = row["items"] / row["wall"] if row.get("wall") else None
        lines.append(
            f"| {label} | {_fmt(row.get('wall'))} | {_fmt(rate, ',.0f')} | {row.get('requests', row.get('error', ''))} |"
        )
    lines += [
        "",
        "At 0 ms latency, interleaved rounds in one process (median):",
        "",
        "| client | items/s | CPU µs/item |",
        "|---|---|---|",
    ]
    for name, row in pag.get("zero latency", {}).items():
        lines.append(
            f"| {name} | {_fmt(row.get('items_per_s'), ',.0f')} | {_fmt(row.get('cpu_us_per_item'), '.1f')} |"
        )
    rss = pag.get("rss", {})
    lines.append(
        f"\nThe first table: 20 ms server latency, and the consumer spends 20 ms per page. "
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

    fig, axes = plt.subplots(1, 3, figsize=(18, 4.5))
    clients = ["aiohttp", "zof-aiohttp", "zof-httpx-aiohttp", "zof", "httpx"]
    width = 0.16
    for panel, key, label in (
        (0, "req_per_s", "requests / s (higher is better)"),
        (2, "cpu_us_per_req", "client CPU µs / request (lower is better, log)"),
    ):
        for i, name in enumerate(clients):
            values = [_fan(data, lat, c, name).get(key) or 0 for lat, c in SETTINGS]
            axes[panel].bar(
                [x + i * width for x in range(len(SETTINGS))], values, width, label=name
            )
        axes[panel].set_xticks(
            [x + 2 * width for x in range(len(SETTINGS))],
            [f"{lat:.0f} ms, c{c}" for lat, c in SETTINGS],
        )
        axes[panel].set_ylabel(label)
        axes[panel].legend(fontsize=8)
    axes[2].set_yscale("log")
    axes[0].set_title(f"Fan-out: {data['sizes']['fanout']:,} artifact listings")
    axes[2].set_title("Fan-out: client CPU per request (median of rounds)")
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
