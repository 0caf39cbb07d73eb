"""MkDocs hooks of the documentation site (`hooks:` in mkdocs.yml; no plugin to install).

The benchmark results live in `benchmarks/results/` (the scripts write them there, and
the README and the sdist name them there); the site publishes them under the same path,
so `docs/performance.md` links to `benchmarks/results/webhooks.md` and the link is
checked by the strict build like any other.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"
PUBLISHED = frozenset({".md", ".png"})


def on_files(files: Files, config: Any) -> Files:
    """Add every Markdown table and chart of `benchmarks/results/` to the site."""
    for path in sorted(RESULTS.iterdir()):
        if path.is_file() and path.suffix in PUBLISHED:
            uri = f"benchmarks/results/{path.name}"
            files.append(File.generated(config, uri, abs_src_path=str(path)))
    return files
