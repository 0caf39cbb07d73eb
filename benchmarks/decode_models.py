"""Decoding speed of the models: µs per object for runs, results and artifacts.

    PYTHONPATH=TREE python benchmarks/decode_models.py [--rounds 7]

Structures the emulator's JSON shapes (already parsed; a run as listed,
without `case_outcomes`) through the converter's
fast path, as a page's items are, and prints the median of `--rounds` rounds
for each model, and the best round (CPU time, so other processes on the
machine weigh less). Run it against two trees (PYTHONPATH) to compare a change.
"""

from __future__ import annotations

import argparse
import statistics
import time
import timeit
from typing import Any

from zof_async import Artifact, Result, Run
from zof_async._converter import _structurer

WHEN = "2026-12-07T19:00:00.123456Z"
RUN: dict[str, Any] = {
    "object": "run",
    "id": "run_1",
    "project_id": "proj_1",
    "environment": "staging",
    "status": "passed",
    "created_at": WHEN,
    "test_case_ids": ["tc_1", "tc_2"],
    "test_suite_id": None,
    "started_at": WHEN,
    "completed_at": WHEN,
    "summary": {"total": 2, "passed": 2, "failed": 0, "error": 0, "skipped": 0},
    "url": "https://zof.example/runs/run_1",
}
RESULT: dict[str, Any] = {
    "object": "result",
    "id": "res_1",
    "run_id": "run_1",
    "test_case_id": "tc_1",
    "status": "failed",
    "created_at": WHEN,
    "duration_ms": 1200,
    "logs_ref": "logs/res_1",
    "failure_summary": "expected 200, got 500",
}
ARTIFACT: dict[str, Any] = {
    "object": "artifact",
    "id": "art_1",
    "run_id": "run_1",
    "result_id": "res_1",
    "kind": "screenshot",
    "name": "failure.png",
    "content_type": "image/png",
    "size_bytes": 2048,
    "download_url": "https://zof.example/a/art_1",
    "created_at": WHEN,
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("-n", type=int, default=20000)
    args = parser.parse_args()
    for model, body in ((Run, RUN), (Result, RESULT), (Artifact, ARTIFACT)):
        times = timeit.repeat(
            "structure(body, model)",
            globals={"structure": _structurer(model), "body": body, "model": model},
            timer=time.process_time,
            number=args.n,
            repeat=args.rounds,
        )
        per = [t / args.n * 1e6 for t in times]
        print(
            f"{model.__name__:9} µs/object: median {statistics.median(per):.3f} best {min(per):.3f}"
        )


if __name__ == "__main__":
    main()
