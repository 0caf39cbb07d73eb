"""The `zof` command against the emulator served on 127.0.0.1."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.serving import ZOF, on_terminal, serving
from zof_async._cli import main
from zof_async._cli._output import parse_duration
from zof_async.testing import Emulator, RunScript, SystemClock

pytestmark = pytest.mark.served

SMOKE = ["--project", "proj_abc", "--environment", "staging", "--suite", "suite_pr_smoke"]


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, str]]:
    emulator = Emulator(data="minimal", clock=SystemClock(), poll_hint=None)
    with serving(emulator, monkeypatch) as base_url:
        yield emulator, base_url


def zof(*args: str) -> int:
    return main(list(args))


@pytest.mark.parametrize(("outcome", "code"), [("passed", 0), ("failed", 1), ("error", 3)])
def test_start_and_wait_gates_on_the_outcome(
    served: tuple[Emulator, str], capsys: pytest.CaptureFixture[str], outcome: str, code: int
) -> None:
    """`runs start --wait` exits 0, 1 or 3 for a passed, failed or errored run."""
    emulator, _ = served
    emulator.script_next_run(RunScript(outcome=outcome, queue_seconds=0, duration_seconds=0.2))  # type: ignore[arg-type]
    assert zof("--json", "runs", "start", *SMOKE, "--wait", "--timeout", "30s") == code
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[-1]["status"] == outcome
    assert lines[-1]["url"].startswith("https://app.zof.ai/runs/")


def test_canceled_run_and_wait_timeout(
    served: tuple[Emulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """wait exits 5 on timeout and 4 on a canceled run; canceling twice exits 6 with the 409."""
    emulator, _ = served
    emulator.script_next_run(RunScript(queue_seconds=0, duration_seconds=3600))
    assert zof("--json", "runs", "start", *SMOKE) == 0
    run = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert zof("runs", "wait", run["id"], "--timeout", "1.5s") == 5
    assert "did not finish within" in capsys.readouterr().err
    assert zof("runs", "cancel", run["id"]) == 0
    assert zof("runs", "wait", run["id"]) == 4
    assert zof("runs", "cancel", run["id"]) == 6
    err = capsys.readouterr().err
    assert "error: HTTP 409: conflict: run is already canceled" in err
    assert "request_id: req_" in err


def test_idempotency_key_makes_a_retried_job_reuse_its_run(
    served: tuple[Emulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Starting twice with one --idempotency-key creates a single run."""
    emulator, _ = served
    for _ in range(2):
        assert zof("--json", "runs", "start", *SMOKE, "--idempotency-key", "ci-build-7") == 0
    ids = {json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()}
    assert len(ids) == 1
    assert len(emulator.runs_of("org_acme")) == 1


@pytest.mark.parametrize(
    ("key", "args", "status"),
    [
        ("zof_nope", ["runs", "list"], "401"),
        ("viewer", ["runs", "start", *SMOKE], "403"),
        ("qa", ["runs", "get", "run_missing"], "404"),
        ("qa", ["results", "get", "res_missing"], "404"),
    ],
)
def test_api_errors_exit_6_with_code_and_request_id(
    served: tuple[Emulator, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    args: list[str],
    status: str,
) -> None:
    """API errors exit 6 showing the status and request id, never the key."""
    emulator, _ = served
    secret = getattr(emulator.keys, key, key)
    monkeypatch.setenv("ZOF_API_KEY", secret)
    assert zof(*args) == 6
    captured = capsys.readouterr()
    assert f"error: HTTP {status}" in captured.err
    assert "request_id: req_" in captured.err
    assert "Traceback" not in captured.err + captured.out
    assert secret not in captured.err + captured.out


def test_json_errors_are_json(
    served: tuple[Emulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """With --json an API error is a JSON object on stderr."""
    assert zof("--json", "runs", "get", "run_missing") == 6
    error = json.loads(capsys.readouterr().err)["error"]
    assert error["status"] == 404
    assert error["code"] == "not_found"
    assert error["request_id"].startswith("req_")


@pytest.mark.parametrize(
    "args",
    [
        ["runs", "start", "--project", "p", "--environment", "staging"],
        [
            "runs",
            "start",
            "--project",
            "p",
            "--environment",
            "staging",
            "--suite",
            "s",
            "--case",
            "c",
        ],
        ["runs", "wait", "run_1", "--timeout", "soon"],
        ["results", "export", "--format", "xml"],
        ["nope"],
    ],
)
def test_bad_flags_exit_2(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """Missing, conflicting or malformed flags exit 2 with usage."""
    with pytest.raises(SystemExit) as caught:
        zof(*args)
    assert caught.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_missing_key_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without ZOF_API_KEY a command exits 2 naming the variable."""
    monkeypatch.delenv("ZOF_API_KEY", raising=False)
    assert zof("runs", "list") == 2
    assert "ZOF_API_KEY" in capsys.readouterr().err


def test_listing_export_and_artifacts(
    served: tuple[Emulator, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """List, export, artifacts --download and logs each give a failed run's full data."""
    emulator, _ = served
    emulator.script_next_run(RunScript(outcome="failed", queue_seconds=0, duration_seconds=0.1))
    assert zof("--json", "runs", "start", *SMOKE, "--wait") == 1
    run = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert zof("--json", "runs", "list", "--status", "failed") == 0
    assert [json.loads(line)["id"] for line in capsys.readouterr().out.splitlines()] == [run["id"]]
    assert zof("--json", "results", "list", "--run", run["id"], "--limit", "100") == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(results) == 25
    out = tmp_path / "r.csv"
    assert zof("results", "export", "--run", run["id"], "-o", str(out)) == 0
    assert len(out.read_text().splitlines()) == 26
    assert (
        zof("--json", "results", "artifacts", "--run", run["id"], "--download", str(tmp_path / "a"))
        == 0
    )
    batches = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(batches) == 25
    files = list((tmp_path / "a").rglob("*"))
    assert sum(f.is_file() for f in files) == sum(len(b["artifacts"]) for b in batches) == 25 + 2
    assert zof("runs", "logs", run["id"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 25 + 3


def test_demo_runs_end_to_end(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`zof demo --small --json` runs start to export and reports its figures."""
    monkeypatch.delenv("ZOF_API_KEY", raising=False)
    folder = tmp_path / "named"
    assert zof("--json", "demo", "--small", "--run-seconds", "0.5", "-o", str(folder)) == 0
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert sum(summary["results"].values()) == 25
    assert summary["export"]["path"] == str(folder / "results.csv")
    assert summary["export"]["bytes"] == (folder / "results.csv").stat().st_size
    assert summary["url"].startswith("http://127.0.0.1:")  # the emulator, not the Console
    assert summary["requests_sent"] > 25
    assert summary["fan_out"]["requests_per_second"] > 0
    assert set(summary["seconds"]) == {
        "start run",
        "wait for the run",
        "stream results",
        "fetch artifacts",
        "export CSV",
    }


def test_demo_writes_into_zof_demo_and_explains_its_outcome(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """`zof demo` writes only ./zof-demo/results.csv and explains the run's outcome."""
    monkeypatch.delenv("ZOF_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    temp = set(Path(tempfile.gettempdir()).glob("zof-demo-*"))
    # The full 2,000-case suite, as `nox -s demo` runs it: its run ends in error.
    assert zof("demo", "--run-seconds", "0.5") == 0
    captured = capsys.readouterr()
    out = captured.out
    assert [p.name for p in tmp_path.iterdir()] == ["zof-demo"]
    assert [p.name for p in (tmp_path / "zof-demo").iterdir()] == ["results.csv"]
    assert str(tmp_path / "zof-demo" / "results.csv") in out
    assert set(Path(tempfile.gettempdir()).glob("zof-demo-*")) == temp
    assert "app.zof.ai" not in out
    assert "run: http://127.0.0.1:" in out
    assert "{'" not in out  # a table, not a dict's repr
    counts = dict(line.split() for line in out.splitlines() if line.split()[:1] == ["total"])
    assert counts == {"total": "2,000"}
    assert "requests/s" in out
    (status,) = re.findall(r"^run_\w+ (\w+): \d+/2000 done", captured.err, re.MULTILINE)
    assert status == "error"
    assert "the run ended error" in out
    assert "exits 0 only if the run passed" in out


def test_progress_renders_on_a_terminal(served: tuple[Emulator, str]) -> None:
    """Run `zof runs start --wait` on a real pseudo-terminal and read the screen."""
    emulator, _ = served
    emulator.script_next_run(RunScript(outcome="passed", queue_seconds=0, duration_seconds=0.5))
    code, text = on_terminal([ZOF, "runs", "start", *SMOKE, "--wait"])
    assert code == 0
    assert "━" in text  # the progress bar
    assert "25/25" in text
    assert "passed" in text
    assert "\x1b[" in text  # styled for a terminal


@pytest.mark.parametrize(
    ("text", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("1h30m", 5400), ("1.5s", 1.5)]
)
def test_durations(text: str, seconds: float) -> None:
    """Durations parse as plain seconds or h/m/s units."""
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "0", "1x", "m", "5h3"])
def test_bad_durations(text: str) -> None:
    """Empty, zero, unknown-unit, number-less or unit-less-tail durations are a ValueError."""
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_request_ids_in_json_and_on_verbose(
    served: tuple[Emulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`--json` objects carry request_id (and replay), `--verbose` prints each request id."""
    assert zof("--json", "runs", "start", *SMOKE, "--idempotency-key", "ci-9") == 0
    first = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert first["request_id"].startswith("req_")
    assert first["idempotent_replayed"] is False
    assert zof("--json", "runs", "start", *SMOKE, "--idempotency-key", "ci-9") == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["idempotent_replayed"] is True
    assert zof("--verbose", "runs", "get", first["id"]) == 0
    err = capsys.readouterr().err
    assert re.search(r"GET \S+/runs/run_\w+ -> 200 \[request_id: req_\w+\] attempt 1", err)


def test_start_and_wait_in_json_carries_the_create_request_id(
    served: tuple[Emulator, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`runs start --wait --json` ends with the run plus the create's request id and replay flag."""
    emulator, _ = served
    emulator.script_next_run(RunScript(queue_seconds=0, duration_seconds=0.2))
    assert zof("--json", "--verbose", "runs", "start", *SMOKE, "--wait", "--timeout", "30s") == 0
    captured = capsys.readouterr()
    last = json.loads(captured.out.splitlines()[-1])
    sent = [json.loads(line)["request"] for line in captured.err.splitlines()]
    created = [r["request_id"] for r in sent if r["method"] == "POST" and r["status"] == 201]
    assert len(created) == 1 and len(sent) > 1  # the create, then the polls
    assert last["status"] == "passed"
    assert last["request_id"] == created[0]
    assert last["idempotent_replayed"] is False


@pytest.mark.parametrize(
    ("group", "says"),
    [
        ("runs", "start, inspect and wait for runs"),
        ("results", "list, export and fetch artifacts of results"),
        ("webhooks", "receive and check webhooks in development"),
    ],
)
def test_each_command_group_says_what_it_is_for(
    group: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`zof <group> --help` opens with what the group does, as `zof --help` lists it."""
    with pytest.raises(SystemExit) as done:
        zof(group, "--help")
    assert done.value.code == 0
    assert capsys.readouterr().out.split("\n\n")[1].strip() == says
