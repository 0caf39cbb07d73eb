"""The SDK's own CPU per request, two checkouts compared in interleaved rounds.

    python benchmarks/compare_overhead.py TREE_A TREE_B [--rounds 7]

Each round runs `benchmarks/sdk_overhead.py` of TREE_A, then of TREE_B, each
in a process of its own with that tree first on `PYTHONPATH` (A B A B ...),
and takes the SDK's µs per request less the floor's. Prints each tree's
median and the median of the per-round ratios B/A: on a shared 2-core machine
one run's ratio moves by tens of percent, the median of rounds much less.
Make TREE_A with `git worktree add /tmp/base <commit>`.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys

_FIGURE = r"{}\s+CPU µs/request: median ([\d.]+)"


def sdk_only(tree: str) -> float:
    """One run of `tree`'s sdk_overhead.py: the SDK's µs per request less the floor's."""
    out = subprocess.run(
        [sys.executable, f"{tree}/benchmarks/sdk_overhead.py", "--rounds", "3", "-n", "20000"],
        env={**os.environ, "PYTHONPATH": tree},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    sdk = float(re.search(_FIGURE.format("sdk"), out).group(1))  # type: ignore[union-attr]
    floor = float(re.search(_FIGURE.format("floor"), out).group(1))  # type: ignore[union-attr]
    return sdk - floor


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tree_a")
    parser.add_argument("tree_b")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    figures: dict[str, list[float]] = {args.tree_a: [], args.tree_b: []}
    for round_ in range(args.rounds):
        for tree in (args.tree_a, args.tree_b):
            figures[tree].append(sdk_only(tree))
            print(f"round {round_}: {tree}: {figures[tree][-1]:.1f} µs", flush=True)
    a, b = figures[args.tree_a], figures[args.tree_b]
    ratios = [new / old for old, new in zip(a, b, strict=True)]
    for tree, values in figures.items():
        print(f"{tree}: SDK-only µs/request, median {statistics.median(values):.1f}")
    print(f"B/A per round {[round(r, 3) for r in ratios]}, median {statistics.median(ratios):.3f}")


if __name__ == "__main__":
    main()
