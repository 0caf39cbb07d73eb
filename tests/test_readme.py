"""Every code block of README.md and docs/, run exactly as written (see "About the examples").

The blocks are read from the documents themselves (`tests/readme.py`), so the
README and the guides cannot drift from the code. Each runs in a fresh interpreter or shell, in an
empty temporary directory, with warnings as errors; the fixtures a block's
`<!-- readme-test: ... -->` marker names are provided here:

- `emulator`: the emulator started as the README says (`python -m
  zof_async.testing --outcome passed`, plus `--port 0`), `ZOF_BASE_URL` and
  `ZOF_API_KEY` set as its banner says; runs pass in a few seconds.
- `pytest-file`: the block is saved as `test_example.py` and run with
  `python -m pytest`, without the pytest-asyncio plugin and, where it is
  installed (a reader's project may have it), with it.
- `fresh-clone`: checked for shell syntax here; run by `nox -s readme` in a copy
  of the repository and a new virtualenv (minutes: too slow for this suite).
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from pathlib import Path

import anyio
import pytest

from tests import processes
from tests.processes import read_lines, started
from tests.readme import DOCS, FIXTURES, LANGUAGES, README, ROOT, Block, all_blocks, blocks
from zof_async import AsyncZof

BLOCKS = blocks()  # README.md's
EVERY_BLOCK = all_blocks()  # README.md's and every docs/ page's
RUNNABLE = [block for block in EVERY_BLOCK if block.language in ("python", "bash")]
TIMEOUT = 180
LOOP_SCOPE = (
    'ignore:The configuration option "asyncio_default_fixture_loop_scope" is unset'
    ":pytest.PytestDeprecationWarning"
)


# The emulator as "About the examples" (the documentation's landing page) tells a
# reader to start it.
LANDING = DOCS / "index.md"
EMULATOR = re.search(
    r"The test starts\s+`(python -m zof_async\.testing[^`]*)`", LANDING.read_text(encoding="utf-8")
)
README_LINES = 250


@contextmanager
def served_emulator(cwd: Path) -> Iterator[dict[str, str]]:
    """`emulator`: the README's emulator command, in its own process, on a free port.

    Yields the variables its banner says to export (`ZOF_BASE_URL`, `ZOF_API_KEY`).
    """
    assert EMULATOR is not None, "docs/index.md no longer says how the test starts the emulator"
    python, *args = shlex.split(EMULATOR[1])
    assert python == "python"
    with (
        tempfile.TemporaryFile("w+") as log,
        started(
            [sys.executable, *args, "--port", "0"], stdout=subprocess.PIPE, stderr=log
        ) as emulator,
    ):
        banner = read_lines(emulator, 4, timeout=60)
        log.seek(0)
        exports = dict(re.findall(r"^\s*export (ZOF_\w+)=(\S+)$", "\n".join(banner), re.M))
        assert set(exports) == {"ZOF_BASE_URL", "ZOF_API_KEY"}, f"{banner}\n{log.read()}"
        yield exports


# Fixtures that set the scene: each is a context manager taking the block's
# working directory and yielding environment variables for it. To add one,
# name it in tests/readme.py's FIXTURES, add it here, and describe it in the
# "About the examples" of docs/index.md.
SCENES: dict[str, Callable[[Path], AbstractContextManager[dict[str, str]]]] = {
    "emulator": served_emulator,
}
# Fixtures that change how a block runs, handled in test_readme_block.
RUNNERS = frozenset({"pytest-file", "fresh-clone"})


def environment(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZOF_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONWARNINGS"] = "error"
    return {**env, **extra}


def run(command: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = processes.run(command, cwd=cwd, env=env, timeout=TIMEOUT)
    shown = f"$ {' '.join(command)}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert done.returncode == 0, shown
    assert "Traceback" not in done.stdout + done.stderr, shown
    assert "Warning" not in done.stderr, shown
    return done


def test_the_readme_starts_with_the_two_commands() -> None:
    """README.md opens with the demo and test commands, checked on a fresh clone."""
    first = BLOCKS[0]
    assert README.read_text(encoding="utf-8").startswith("# zof-async\n")
    assert [line.split("#")[0].strip() for line in first.source.splitlines()] == [
        "python -m pip install nox && nox -s demo",
        "python -m pip install nox && nox -s tests",
    ]
    assert first.fixtures == {"fresh-clone"}


def test_every_block_has_a_known_language_and_known_fixtures() -> None:
    """Every block is python, bash or plain text, and names only known fixtures."""
    assert set(SCENES) | RUNNERS == FIXTURES
    assert len(RUNNABLE) >= 6
    for block in EVERY_BLOCK:
        assert block.language in LANGUAGES, f"{block.id}: use python, bash or a plain block"
        assert block.fixtures <= FIXTURES, f"{block.id}: unknown {block.fixtures - FIXTURES}"
        if not block.language:
            assert not block.fixtures, f"{block.id}: a plain block is text and never runs"


@pytest.mark.served
@pytest.mark.parametrize("block", RUNNABLE, ids=[block.id for block in RUNNABLE])
def test_readme_block(block: Block, tmp_path: Path) -> None:
    """Each block runs as written, cleanly (no traceback, no warning); fresh-clone ones: syntax."""
    if "fresh-clone" in block.fixtures:
        assert block.language == "bash"
        run(["bash", "-n", "-c", block.source], tmp_path, environment({}))
        return
    with ExitStack() as stack:
        extra: dict[str, str] = {}
        for name in sorted(block.fixtures - RUNNERS):
            extra.update(stack.enter_context(SCENES[name](tmp_path)))
        env = environment(extra)
        if "pytest-file" in block.fixtures:
            (tmp_path / "test_example.py").write_text(block.source, encoding="utf-8")
            # Warnings are errors, but for pytest-asyncio's complaint that the
            # project (a file, here) leaves its loop scope option unset.
            del env["PYTHONWARNINGS"]
            for plugins in ([], ["-p", "no:asyncio"]):
                pytest_args = ["-q", "-p", "no:cacheprovider", "-W", "error", "-W", LOOP_SCOPE]
                pytest_args += plugins
                done = run([sys.executable, "-m", "pytest", *pytest_args], tmp_path, env)
                assert re.fullmatch(r"\d+ passed in .*", done.stdout.splitlines()[-1])
        elif block.language == "python":
            (tmp_path / "example.py").write_text(block.source, encoding="utf-8")
            done = run([sys.executable, "example.py"], tmp_path, env)
            # A value that is not there is shown as what it means, never as "None".
            assert not re.search(r"\bNone\b", done.stdout), done.stdout
        else:
            (tmp_path / "example.sh").write_text(block.source, encoding="utf-8")
            run(["bash", "-e", "-o", "pipefail", "example.sh"], tmp_path, env)


@pytest.mark.served
def test_runs_on_the_emulator_started_as_the_readme_says_pass(tmp_path: Path) -> None:
    """Every run passes on the README's emulator, as its examples (`--wait` in `bash -e`) need."""

    async def outcomes(env: dict[str, str]) -> list[str]:
        async with AsyncZof(api_key=env["ZOF_API_KEY"], base_url=env["ZOF_BASE_URL"]) as zof:
            runs = [
                await zof.runs.create(
                    project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
                )
                for _ in range(8)
            ]
            done = [await zof.runs.wait_until_complete(run.id, timeout=120) for run in runs]
        return [run.status.value for run in done]

    with served_emulator(tmp_path) as env:
        assert anyio.run(outcomes, env) == ["passed"] * 8


def test_the_install_line_names_the_extras_the_examples_need() -> None:
    """The Install block installs `testing` (the emulator) and `cli`; the OTel text names its SDK."""
    install = next(b for b in BLOCKS if 'pip install -e ".[' in b.source)
    extras = re.search(r'pip install -e "\.\[([\w,]+)\]"', install.source)
    assert extras is not None
    assert {"cli", "testing"} <= set(extras[1].split(","))
    text = (DOCS / "guides" / "options.md").read_text(encoding="utf-8")
    otel = text[text.index("OpenTelemetry (`pip install") :]
    uses_sdk = "from opentelemetry.sdk" in otel[: otel.index("asyncio.run(main())")]
    assert uses_sdk
    assert "opentelemetry-sdk" in otel[: otel.index("```")]  # said before the example


def test_the_readme_is_a_short_landing_page() -> None:
    """README.md stays under 250 lines, and every page it links to exists."""
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) < README_LINES
    linked = re.findall(r"\]\((?!https?://)([^)#\s]+)(?:#[^)]*)?\)", text)
    assert any(link.startswith("docs/guides/") for link in linked)
    assert [link for link in linked if not (ROOT / link).exists()] == []


def test_the_landing_page_includes_sections_the_readme_has() -> None:
    """Each `--8<-- "README.md:name"` of docs/index.md names a section README.md marks.

    A missing section would be included as nothing, without a warning.
    """
    readme = README.read_text(encoding="utf-8")
    included = re.findall(r'^--8<-- "README\.md:(\w+)"$', LANDING.read_text(encoding="utf-8"), re.M)
    assert included == ["intro", "install", "tour"]
    for name in included:
        start, end = f"<!-- --8<-- [start:{name}] -->", f"<!-- --8<-- [end:{name}] -->"
        assert readme.count(start) == readme.count(end) == 1, name
        assert readme.index(start) < readme.index(end), name
