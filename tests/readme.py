"""The code blocks of README.md and of every page under docs/, with what each needs to run.

A fenced block may be preceded (on the line just above it, or separated from
it only by blank lines) by an HTML comment naming the fixtures it needs:

    <!-- readme-test: emulator -->

Every ```python and ```bash block is run exactly as written; plain ``` blocks
(no language) are text and are not run. See "About the examples" in docs/index.md
for the fixtures, and `tests/test_readme.py` for what each one provides.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
LANGUAGES = frozenset({"python", "bash", ""})
FIXTURES = frozenset({"emulator", "pytest-file", "fresh-clone"})
_MARKER = re.compile(r"^<!--\s*readme-test:\s*(?P<names>[\w\s,-]*?)\s*-->\s*$")
_FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block of a document (README.md or a page of docs/)."""

    document: str  # the path relative to the checkout, e.g. "docs/guides/sync.md"
    line: int  # 1-based line of the opening fence
    language: str
    fixtures: frozenset[str]
    source: str

    @property
    def id(self) -> str:
        return f"{self.document}:{self.line}:{self.language}"


def blocks(path: Path = README) -> list[Block]:
    """Every fenced block of `path`, in order."""
    document = path.relative_to(ROOT).as_posix()
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    fixtures: frozenset[str] = frozenset()
    i = 0
    while i < len(lines):
        marker = _MARKER.match(lines[i])
        fence = _FENCE.match(lines[i])
        if marker:
            fixtures = frozenset(re.split(r"[\s,]+", marker["names"].strip())) - {""}
        elif fence:
            start = i
            i += 1
            body: list[str] = []
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            if i == len(lines):
                raise ValueError(f"{document}:{start + 1}: a code block is never closed")
            found.append(
                Block(document, start + 1, fence["lang"], fixtures, "\n".join(body) + "\n")
            )
            fixtures = frozenset()
        elif lines[i].strip():
            fixtures = frozenset()  # a marker applies only to the block right below it
        i += 1
    return found


def documents() -> list[Path]:
    """README.md, then every Markdown page under docs/, in a stable order."""
    return [README, *sorted(DOCS.rglob("*.md"))] if DOCS.is_dir() else [README]


def all_blocks() -> list[Block]:
    """Every fenced block of every document, README.md first."""
    return [block for path in documents() for block in blocks(path)]
