"""Every Python block of the "Webhooks" section of docs/guides/waiting.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

GUIDE = Path(__file__).parents[2] / "docs" / "guides" / "waiting.md"


def blocks() -> list[str]:
    text = GUIDE.read_text()
    start = text.index("\n## Webhooks\n")
    return re.findall(r"```python\n(.*?)```", text[start:], re.S)


def test_the_section_has_its_three_examples() -> None:
    """The guide's Webhooks section holds three Python blocks."""
    assert len(blocks()) == 3


@pytest.mark.parametrize("index", range(3))
def test_block_runs_as_written(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    """Each Webhooks block runs as written; the waiting one ends on the event, not polling."""
    code = blocks()[index]
    exec(
        compile(code, f"docs/guides/waiting.md:webhooks[{index}]", "exec"),
        {"__name__": "__readme__"},
    )
    if "anyio.run(main)" in code:
        printed = capsys.readouterr().out
        match = re.fullmatch(r"passed after (\d+) poll\(s\)\n", printed)
        assert match is not None, printed
        assert int(match.group(1)) <= 1  # the event, not polling, ended the wait
