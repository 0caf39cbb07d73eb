"""How the CLI talks: tables and progress for people, JSON lines for programs.

Exit codes (also in `zof --help`):

| code | meaning |
|---|---|
| 0 | success; with `--wait`, the run passed |
| 1 | the run failed |
| 2 | usage or configuration error (bad flags, no API key) |
| 3 | the run ended in `error` |
| 4 | the run was canceled |
| 5 | `--wait` / `runs wait` timed out |
| 6 | API or connection error |
| 130 | interrupted (Ctrl-C); a started run goes on on the server |

A reader that goes away (`zof ... | head -1`) is none of these: `zof` stops
writing, prints nothing, and exits with the code it would have had (0; after a
wait, the run's outcome), however early the pipe closed.

This module imports `rich` only when output is made, so `zof` can say which
extra is missing instead of failing on import.
"""

from __future__ import annotations

import enum
import json
import os
import sys
from collections.abc import Iterable, Mapping
from contextlib import suppress
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from zof_async import (
    APIConnectionError,
    APIStatusError,
    Artifact,
    CaseOutcome,
    ResponseView,
    Result,
    Run,
    RunSummary,
    ZofError,
)

if TYPE_CHECKING:
    from rich.console import Console


class Exit(enum.IntEnum):
    OK = 0
    FAILED = 1
    USAGE = 2
    ERROR = 3
    CANCELED = 4
    TIMEOUT = 5
    API = 6
    INTERRUPTED = 130


class PipeClosed(Exception):
    """Whoever reads our output went away (`zof ... | head -1`): stop, quietly.

    Attributes:
        code: The exit code the command has anyway (a wait's outcome), 0 otherwise.
    """

    def __init__(self, code: int = Exit.OK) -> None:
        super().__init__("the reader of the output went away")
        self.code = code


def quiet_exit(code: int) -> int:
    """`code`, after pointing stdout and stderr at /dev/null.

    What is still buffered, and Python's flush at exit, then go nowhere instead
    of failing again with a `BrokenPipeError` traceback.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in (sys.stdout, sys.stderr):
        with suppress(OSError, ValueError):  # ValueError: no descriptor (a test's capture)
            os.dup2(devnull, stream.fileno())
    os.close(devnull)
    return int(code)


def _console(file: Any) -> Console:
    """A rich Console whose closed pipe raises `PipeClosed` (rich's own exits with 1)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise PipeClosed

    return _Console(file=file, highlight=False, soft_wrap=True)


class MissingExtra(Exception):
    """A feature needs an optional dependency: the message says what to install."""


RUN_EXIT = {
    "passed": Exit.OK,
    "failed": Exit.FAILED,
    "error": Exit.ERROR,
    "canceled": Exit.CANCELED,
}

EXIT_CODES = """exit codes:
  0  success (with --wait: the run passed)     1  the run failed
  2  usage or configuration error              3  the run ended in error
  4  the run was canceled                      5  waiting timed out
  6  API or connection error                  130  interrupted (Ctrl-C)
a closed pipe (zof ... | head -1) ends zof quietly with the code it has anyway:
0, or after a wait, the run's outcome"""


class Output:
    """Console output; `json` switches every record to one JSON object per line.

    Attributes:
        on_interrupt: What to tell the user if Ctrl-C stops the command now
            (e.g. that the run it started goes on on the server).
    """

    def __init__(self, *, json_lines: bool, stdout: Any = None, stderr: Any = None) -> None:
        self.json = json_lines
        self.out: Console = _console(stdout or sys.stdout)
        self.err: Console = _console(stderr or sys.stderr)
        self.on_interrupt: str | None = None

    @property
    def interactive(self) -> bool:
        """Live progress only for a person at a terminal, never in a pipe."""
        return not self.json and self.out.is_terminal

    def record(
        self,
        value: object,
        *,
        row: object = None,
        columns: list[str] | None = None,
        **metadata: object,
    ) -> None:
        """One object: a JSON line; in a pipe, one line; on a terminal, `key: value` lines.

        In a pipe (stdout not a terminal) one object follows the listings' rule:
        one tab-separated line, `columns` of `row` (the line a listing prints
        for it: `zof runs get RUN | cut -f1` is the id), or every value of a
        dict in order. `metadata` (the answer's `request_id`, say) is added to
        the JSON object only: people see it with `--verbose`.
        """
        data = plain(value)
        if self.json and isinstance(data, dict):
            data.update(metadata)
        if self.json:
            self.out.print(json.dumps(data, default=str), markup=False, highlight=False)
        elif not self.out.is_terminal and isinstance(data, dict):
            shown = data if row is None else plain(row)
            self._line(shown, columns or list(shown))
            self.out.file.flush()
        elif isinstance(data, dict):
            width = max(len(k) for k in data) if data else 0
            for key, item in data.items():
                if isinstance(item, list | dict):
                    item = json.dumps(item, default=str)
                self.out.print(f"{key:<{width}}  {item}", markup=False)
        else:
            self.out.print(str(data), markup=False)

    def table(
        self, rows: Iterable[object], columns: list[str], *, records: Iterable[object] = ()
    ) -> int:
        """Many objects: a table on a terminal, JSON lines with `--json`.

        When stdout is not a terminal (a pipe, a file), each row is one line
        of tab-separated, untruncated values, without a header. With `--json`,
        `records` (the full objects, when given) are printed instead of `rows`.
        """
        from rich.table import Table

        count = 0
        if self.json:
            for row in records or rows:
                self.record(row)
                count += 1
            return count
        if not self.out.is_terminal:
            for row in rows:
                self._line(plain(row), columns)
                count += 1
            self.out.file.flush()
            return count
        table = Table(*columns, box=None, pad_edge=False, header_style="bold")
        for row in rows:
            data = plain(row)
            table.add_row(*("" if data.get(c) is None else str(data.get(c)) for c in columns))
            count += 1
        self.out.print(table)
        return count

    def _line(self, data: Mapping[str, Any], columns: list[str]) -> None:
        """One record in a pipe: whole values, tab-separated (tabs and newlines as spaces)."""
        values = ("" if data.get(c) is None else _text(data.get(c)) for c in columns)
        line = "\t".join(v.replace("\t", " ").replace("\n", " ") for v in values)
        self.out.file.write(line + "\n")  # as is: rich would expand the tabs

    def attempt(self, view: ResponseView) -> None:
        """`--verbose`: one line per attempt on stderr (a JSON object with `--json`)."""
        fields = {
            "method": view.method, "url": view.url, "status": view.status,
            "request_id": view.request_id, "attempt": view.attempt,
            "elapsed": round(view.elapsed, 3), "error": view.error,
        }  # fmt: skip
        if self.json:
            self.err.print(json.dumps({"request": fields}), markup=False, highlight=False)
            return
        outcome = view.status if view.status is not None else view.error
        line = f"{view.method} {view.url} -> {outcome}"
        if view.request_id is not None:  # none without an answer (a connection error)
            line += f" [request_id: {view.request_id}]"
        self.err.print(f"{line} attempt {view.attempt}, {view.elapsed:.3f} s", markup=False)

    def note(self, message: str) -> None:
        """A remark for people (stderr), silent in JSON mode."""
        if not self.json:
            self.err.print(message, markup=False)

    def error(self, exc: BaseException, *, hint: str | None = None) -> Exit:
        """Print an error without a traceback (and `hint`, what to try); return its exit code."""
        if isinstance(exc, APIStatusError):
            line = f"error: HTTP {exc.status_code}: {exc.detail}"
            payload = {
                "error": {
                    "status": exc.status_code, "code": exc.code, "message": exc.message,
                    "param": exc.param, "request_id": exc.request_id,
                }
            }  # fmt: skip
        else:
            message = str(exc)
            if isinstance(exc, APIConnectionError) and exc.request is not None:
                url = exc.request.url
                where = f"{url.scheme}://{url.netloc.decode('ascii', 'replace')}"
                if url.host not in message:
                    message = f"{message} (connecting to {where})"
            line = f"error: {message}"
            payload = {"error": {"message": message, "type": type(exc).__name__}}
        if hint:
            payload["error"]["hint"] = hint
            line += f"\nhint: {hint}"
        if self.json:
            self.err.print(json.dumps(payload), markup=False, highlight=False)
        else:
            self.err.print(line, markup=False)
        return Exit.API if isinstance(exc, ZofError) else Exit.USAGE


def _text(value: object) -> str:
    return json.dumps(value, default=str) if isinstance(value, list | dict) else str(value)


def plain(value: object) -> Any:
    """A model (or anything) as JSON-ready data; an API object as the API sent it."""
    if isinstance(value, Run | Result | Artifact | RunSummary | CaseOutcome):
        return value.to_dict()
    if attrs.has(type(value)):
        return {k: plain(v) for k, v in attrs.asdict(value, recurse=False).items()}  # type: ignore[arg-type]
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def parse_duration(text: str) -> float:
    """`90`, `90s`, `30m`, `1h`, `1h30m` as seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    text = text.strip().lower()
    if not text:
        raise ValueError("empty duration")
    if text.replace(".", "", 1).isdigit():
        seconds = float(text)
    else:
        seconds, number = 0.0, ""
        for char in text:
            if char.isdigit() or char == ".":
                number += char
            elif char in units and number:
                seconds += float(number) * units[char]
                number = ""
            else:
                raise ValueError(f"not a duration: {text!r} (try 90s, 30m or 1h)")
        if number:
            raise ValueError(f"not a duration: {text!r} (a unit is missing)")
    if seconds <= 0:
        raise ValueError("a duration must be positive")
    return seconds
