"""The `zof` command in scripts and on fresh installs: pipes, --json, exit codes, hints."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import anyio
import pytest

from tests.cli.serving import ZOF, on_terminal, serving
from tests.processes import read_lines, run, sigint_ignored, started
from zof_async import AsyncZof
from zof_async._cli import main
from zof_async._version import __version__
from zof_async.testing import Emulator, RunScript, SystemClock

pytestmark = pytest.mark.served

SMOKE = ["--project", "proj_abc", "--environment", "staging", "--suite", "suite_pr_smoke"]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, str]]:
    emulator = Emulator(clock=SystemClock(), poll_hint=None)
    with serving(emulator, monkeypatch) as base_url:
        yield emulator, base_url


def zof(*args: str) -> int:
    return main(list(args))


def without(module: str, *code: str) -> subprocess.CompletedProcess[str]:
    """Run Python code in a fresh interpreter where `import <module>` fails."""
    prelude = f"import sys; sys.modules[{module!r}] = None; "
    return run([sys.executable, "-c", prelude + "; ".join(code)], timeout=60)


def test_piped_lists_print_whole_values_one_record_per_line(
    served: tuple[Emulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Piped, `runs list` prints one tab-separated run per line with whole values."""
    emulator, _ = served
    assert zof("runs", "list", "--limit", "15") == 0
    lines = capsys.readouterr().out.splitlines()
    ids = [run.id for run in emulator.runs_of("org_acme")]
    assert len(lines) == 15
    for line in lines:
        fields = line.split("\t")
        assert len(fields) == 6
        assert fields[0] in ids  # whole ids, no ellipsis
        assert "…" not in line
        assert fields[5].endswith("skipped")  # the summary on the same line


@pytest.mark.parametrize("where", ["before", "after"])
def test_global_options_work_before_or_after_the_command(
    served: tuple[Emulator, str], capsys: pytest.CaptureFixture[str], where: str
) -> None:
    """Global options work before or after the command; --json prints API objects."""
    _, base_url = served
    options = ["--json", "--base-url", base_url, "--max-connections", "4"]
    args = [*options, "runs", "list"] if where == "before" else ["runs", "list", *options]
    assert zof(*args, "--limit", "3") == 0
    runs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(runs) == 3
    # objects, not prose: the summary is the API's counts
    assert set(runs[0]["summary"]) == {"total", "passed", "failed", "error", "skipped"}
    assert runs[0]["created_at"].endswith("Z")


def test_a_finished_run_shows_a_summary_and_json_keeps_the_detail(
    served: tuple[Emulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A finished run: one line in a pipe, a short summary on a terminal; --json has it all."""
    emulator, _ = served
    emulator.script_next_run(
        RunScript(queue_seconds=0, duration_seconds=0.2, fail_rate=0.05, error_rate=0)
    )
    big = ["--project", "proj_abc", "--environment", "staging", "--suite", "suite_full_regression"]
    assert zof("runs", "start", *big, "--wait", "--timeout", "60s") == 1
    line = capsys.readouterr().out  # captured: a pipe
    run_id, status, *_, cases = line.rstrip("\n").split("\t")
    assert status == "failed"
    assert "2000/2000 done" in cases
    for command in (["runs", "get", run_id], ["runs", "wait", run_id]):
        assert zof(*command) in (0, 1)
        assert capsys.readouterr().out == line
    code, shown = on_terminal([ZOF, "runs", "get", run_id])
    assert code == 0
    assert len(shown) < 2000  # not every case outcome
    fields = dict(row.split(None, 1) for row in shown.splitlines() if row.strip())
    assert fields["run"] == run_id
    assert fields["status"] == "failed"
    assert fields["url"].endswith(f"/runs/{run_id}")
    assert "2000/2000 done" in fields["cases"]
    assert "(failed)" in fields["failing"]
    assert "more (zof runs get" in fields["failing"]
    assert zof("runs", "get", run_id, "--json") == 0
    detail = json.loads(capsys.readouterr().out)
    assert len(detail["case_outcomes"]) == 2000


def test_version() -> None:
    """`--version` prints the package version."""
    done = run([ZOF, "--version"], timeout=60)
    assert done.returncode == 0
    assert done.stdout.startswith(f"zof {__version__} ")


@pytest.mark.parametrize("args", [["--help"], ["runs", "list"]])
def test_without_rich_the_command_gives_an_install_hint(args: list[str]) -> None:
    """Without rich, the command exits 2 with a one-line install hint."""
    done = without("rich", "from zof_async._cli import main", f"sys.exit(main({args!r}))")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "the zof command needs the 'cli' extra: pip install 'zof-async[cli]'"
        " (from a clone: pip install -e '.[cli]')"
    ]
    assert done.stdout == ""


def test_without_uvicorn_the_emulator_gives_an_install_hint() -> None:
    """Without uvicorn, the emulator's entry exits 2 with an install hint, no traceback."""
    done = without(
        "uvicorn", "import runpy", "runpy.run_module('zof_async.testing', run_name='__main__')"
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "pip install 'zof-async[testing]'" in done.stderr
    assert done.stdout == ""  # no "serving" banner for a server that never starts


def test_the_demo_without_uvicorn_gives_an_install_hint(tmp_path: Path) -> None:
    """Without uvicorn, `zof demo` exits 2 with an install hint, no traceback."""
    code = "from zof_async._cli import main; import os; os.environ.pop('ZOF_API_KEY', None)"
    done = without("uvicorn", code, f"sys.exit(main(['demo', '-o', {str(tmp_path)!r}]))")
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "pip install 'zof-async[testing]'" in done.stderr


def test_an_unusable_output_folder_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An output path that is a file is a usage error naming it."""
    monkeypatch.delenv("ZOF_API_KEY", raising=False)
    taken = tmp_path / "a-file"
    taken.write_text("")
    assert zof("demo", "-o", str(taken)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert str(taken) in err


def test_no_key_names_the_command_line_option_and_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no key, the error names --api-key and ZOF_API_KEY, not the Python argument."""
    monkeypatch.delenv("ZOF_API_KEY", raising=False)
    assert zof("runs", "list") == 2
    err = capsys.readouterr().err
    assert "--api-key" in err
    assert "ZOF_API_KEY" in err
    assert "api_key=" not in err


def test_a_connection_error_names_the_host(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], zof_no_backoff: None
) -> None:
    """A refused connection exits 6 naming the host, without a traceback."""
    monkeypatch.setenv("ZOF_API_KEY", "zof_emu_qa_acme")
    monkeypatch.setenv("ZOF_BASE_URL", "http://127.0.0.1:9/v1")  # discard: nothing listens
    assert zof("runs", "list") == 6
    err = capsys.readouterr().err
    assert "127.0.0.1:9" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("suite_sigint", ["default", "ignored"])
def test_ctrl_c_while_waiting_says_the_run_goes_on(
    served: tuple[Emulator, str], suite_sigint: str
) -> None:
    """Ctrl-C while waiting exits 130 saying the run goes on and how to cancel it.

    Also when the suite itself ignores SIGINT (`nohup nox &`): the child must not.
    """
    emulator, _ = served
    emulator.script_next_run(RunScript(queue_seconds=0, duration_seconds=3600))
    with ExitStack() as stack:
        if suite_sigint == "ignored":
            stack.enter_context(sigint_ignored())
        command = [ZOF, "runs", "start", *SMOKE, "--wait"]
        pipes = {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
        process = stack.enter_context(started(command, **pipes, env=os.environ.copy()))
        assert process.stderr is not None
        started_line = process.stderr.readline()  # "started run_...: <url>"
        assert started_line.startswith("started run_"), started_line
        run_id = started_line.split()[1].rstrip(":")
        # The command sets its interrupt note right after printing that line, before its
        # next await; SIGINT cancels the main task at an await, so the note is there.
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=30)
    err = started_line + rest
    assert process.returncode == 130
    assert "Traceback" not in err
    assert "goes on running on the server" in err
    assert f"zof runs cancel {run_id}" in err
    assert f"/runs/{run_id}" in err
    assert emulator.runs_of("org_acme")  # and it does: not canceled by the client
    assert "canceled" not in err


def test_zof_emulator_takes_the_outcome_of_every_run() -> None:
    """`zof emulator --outcome failed` serves an emulator on which every run fails."""

    async def outcome(base_url: str, key: str) -> str:
        async with AsyncZof(api_key=key, base_url=base_url) as client:
            run = await client.runs.create(
                project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
            )
            return (await client.runs.wait_until_complete(run.id, timeout=120)).status.value

    command = [ZOF, "emulator", "--port", "0", "--outcome", "failed"]
    with started(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as emulator:
        banner = "\n".join(read_lines(emulator, 3, timeout=60))
        exports = dict(re.findall(r"export (ZOF_\w+)=(\S+)", banner))
        assert anyio.run(outcome, exports["ZOF_BASE_URL"], exports["ZOF_API_KEY"]) == "failed"


def test_version_needs_no_rich() -> None:
    """`zof --version` answers without the `cli` extra (rich), as a first check of an install."""
    done = without("rich", "from zof_async._cli import main", "sys.exit(main(['--version']))")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"zof {__version__} ")
