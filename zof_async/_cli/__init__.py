"""`zof`: the command line of zof-async (install with the `cli` extra)."""

from __future__ import annotations

import argparse
import enum
import json
import os
import platform
import re
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, TypeAlias

import httpx

from zof_async import ConfigurationError, NotFoundError, ResultStatus, RunStatus, __version__

from . import _webhooks_cmd
from ._output import EXIT_CODES, Exit, MissingExtra, Output, PipeClosed, parse_duration, quiet_exit

Command = Callable[..., Awaitable[Exit]]

EXAMPLES = """examples:
  zof runs start --project proj_abc --environment staging --suite suite_pr_smoke --wait --timeout 30m
  zof runs list --project proj_abc --status failed,error
  zof runs logs run_123 --follow
  zof results export --run run_123 --format csv -o results.csv
  zof results artifacts --run run_123 --download ./artifacts
  zof emulator --port 8765
  zof webhooks listen --port 9000 --secret whsec_...
  zof demo

configuration: ZOF_API_KEY (or --api-key) and ZOF_BASE_URL (or --base-url).
The options above work before or after the command: zof runs list --json.
--verbose prints each request's request id (on stderr); --json output of one
object (runs start/get/cancel, results get) carries its "request_id".

"""


def _duration(text: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _statuses(known: type[enum.Enum]) -> Callable[[str], list[str]]:
    """`--status failed,error`, each checked against `known` before anything is sent."""
    names = [member.value for member in known]

    def parse(text: str) -> list[str]:
        statuses = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [status for status in statuses if status not in names]
        if unknown or not statuses:
            raise argparse.ArgumentTypeError(
                f"unknown status {', '.join(map(repr, unknown)) or repr(text)}"
                f" (one or more of: {', '.join(names)})"
            )
        return statuses

    return parse


def _positive(text: str) -> int:
    """A count such as `--limit`: a whole number from 1."""
    try:
        number = int(text)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1, not {text!r}")
    return number


def add_global_options(parser: argparse.ArgumentParser, *, defaults: bool) -> None:
    """The options every command takes, before or after its name.

    The top-level parser has the defaults; every command parser gets the same
    options with `defaults=False` (their defaults suppressed), so that
    `zof runs list --json` and `zof --json runs list` mean the same.
    """

    def default(value: object) -> object:
        return value if defaults else argparse.SUPPRESS

    parser.add_argument(
        "--json",
        action="store_true",
        default=default(False),
        help="one JSON object per line, no progress",
    )
    parser.add_argument(
        "--base-url",
        default=default(None),
        help="API root (default: ZOF_BASE_URL or https://api.zof.ai/v1)",
    )
    parser.add_argument(
        "--api-key",
        default=default(None),
        help="API key (default: ZOF_API_KEY, which keeps it out of the process list)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default(False),
        help="print every request's status and request id on stderr (for support)",
    )
    parser.add_argument(
        "--max-connections",
        type=_positive,
        default=default(64),
        help="requests in flight at most",
    )
    parser.add_argument(
        "--allow-insecure-http",
        action="store_true",
        default=default(False),
        help="send the API key over plain http:// to a host other than this machine",
    )


def _group(
    groups: argparse._SubParsersAction[argparse.ArgumentParser], name: str, help: str
) -> argparse._SubParsersAction[argparse.ArgumentParser]:
    """A command group whose `--help` opens with what it is for."""
    parser = groups.add_parser(name, help=help, description=help)
    add_global_options(parser, defaults=False)  # zof runs --json list
    return parser.add_subparsers(dest="command", required=True)


if TYPE_CHECKING:
    Groups: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]
_FORMATTER = argparse.RawDescriptionHelpFormatter


def build_parser() -> argparse.ArgumentParser:
    """The `zof` parser: global options, then one sub-parser per command."""
    parser = argparse.ArgumentParser(
        prog="zof",
        description="The Zof API from the command line.",
        epilog=EXAMPLES + EXIT_CODES,
        formatter_class=_FORMATTER,
    )
    parser.add_argument(
        "--version",
        action="version",
        version=VERSION,
    )
    add_global_options(parser, defaults=True)
    groups = parser.add_subparsers(
        dest="group", required=True, metavar="{runs,results,emulator,demo,webhooks}"
    )
    _add_runs(_group(groups, "runs", "start, inspect and wait for runs"))
    _add_results(_group(groups, "results", "list, export and fetch artifacts of results"))
    _add_emulator_and_demo(groups)
    webhooks = _group(groups, "webhooks", "receive and check webhooks in development")
    add_global_options(_webhooks_cmd.register(webhooks, _FORMATTER), defaults=False)
    return parser


def _command(
    sub: Groups, name: str, handler: str, help: str, example: str
) -> argparse.ArgumentParser:
    """A command's parser: its help, one example, the exit codes and the global options."""
    parser = sub.add_parser(
        name,
        help=help,
        description=help,
        epilog=f"example:\n  {example}\n\n{EXIT_CODES}",
        formatter_class=_FORMATTER,
    )
    add_global_options(parser, defaults=False)
    parser.set_defaults(handler=handler)
    return parser


def _add_runs(runs: Groups) -> None:
    p = _command(runs, "start", "runs.start", "start a run (and with --wait, gate on its outcome)",
                 "zof runs start --project proj_abc --environment staging --suite suite_pr_smoke --wait")  # fmt: skip
    p.add_argument("--project", required=True)
    p.add_argument("--environment", required=True, help="staging, production or a custom label")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--suite", help="the suite to run")
    which.add_argument("--case", action="append", help="a case to run (repeatable)")
    p.add_argument("--wait", action="store_true", help="wait for the run; exit 0 only if it passed")
    p.add_argument(
        "--timeout", type=_duration, default=3600.0, help="with --wait: how long (90s, 30m, 1h)"
    )
    p.add_argument("--idempotency-key", help="make a retried CI job reuse the same run")
    p = _command(
        runs, "list", "runs.list", "list runs, newest first", "zof runs list --status failed,error"
    )
    p.add_argument("--project")
    p.add_argument("--status", type=_statuses(RunStatus))
    p.add_argument("--limit", type=_positive, default=50)
    for name, help_text in (("get", "show a run"), ("cancel", "cancel a queued or running run")):
        _command(runs, name, f"runs.{name}", help_text, f"zof runs {name} run_123").add_argument(
            "run"
        )
    p = _command(runs, "wait", "runs.wait", "wait for a run; the exit code says how it ended",
                 "zof runs wait run_123 --timeout 30m")  # fmt: skip
    p.add_argument("run")
    p.add_argument("--timeout", type=_duration, default=3600.0)
    p = _command(runs, "logs", "runs.logs", "print a run's log", "zof runs logs run_123 --follow")
    p.add_argument("run")
    p.add_argument("--follow", action="store_true", help="keep printing until the run finishes")
    p.add_argument("--interval", type=float, default=2.0, help=argparse.SUPPRESS)


def _add_results(results: Groups) -> None:
    p = _command(results, "list", "results.list", "list results, newest first",
                 "zof results list --run run_123 --status failed")  # fmt: skip
    p.add_argument("--run")
    p.add_argument("--status", type=_statuses(ResultStatus))
    p.add_argument("--limit", type=_positive, default=50)
    _command(
        results, "get", "results.get", "show a result", "zof results get res_123"
    ).add_argument("result")
    p = _command(results, "export", "results.export", "export results as CSV or JSON",
                 "zof results export --run run_123 -o results.csv")  # fmt: skip
    p.add_argument("--run")
    p.add_argument("--status", type=_statuses(ResultStatus))
    p.add_argument("--format", choices=["csv", "json"], default="csv")
    p.add_argument("-o", "--output", help="file to write atomically (default: stdout)")
    p = _command(results, "artifacts", "results.artifacts", "fetch the artifacts of every result of a run, concurrently",
                 "zof results artifacts --run run_123 --download ./artifacts")  # fmt: skip
    p.add_argument("--run", required=True)
    p.add_argument(
        "--download", metavar="DIR", help="also download every artifact into DIR/<result id>/"
    )
    p.add_argument("--concurrency", type=_positive, default=None)


def _add_emulator_and_demo(groups: Groups) -> None:
    p = _command(groups, "emulator", "emulator", "serve the Zof emulator on 127.0.0.1",
                 "zof emulator --port 8765")  # fmt: skip
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--outcome",
        choices=["passed", "failed", "error"],
        help="how every run ends (default: at random, case by case)",
    )
    p = _command(groups, "demo", "demo",
                 "walk the whole product against the emulator (or ZOF_API_KEY's server)", "zof demo")  # fmt: skip
    p.add_argument(
        "--small", action="store_true", help="the 25-case smoke suite instead of 2,000 cases"
    )
    p.add_argument("--project", default="proj_abc")
    p.add_argument("--environment", default="staging")
    p.add_argument("--suite")
    p.add_argument(
        "--run-seconds", type=float, default=4.0, help="emulator: how long the run takes"
    )
    p.add_argument("--concurrency", type=_positive, default=64)
    p.add_argument("--timeout", type=_duration, default=600.0)
    p.add_argument(
        "-o",
        "--output-dir",
        default="zof-demo",
        help="folder for what the demo writes (default: ./zof-demo/)",
    )


async def _dispatch(args: argparse.Namespace, out: Output) -> Exit:
    from zof_async import AsyncZof

    from . import _demo, _results_cmd, _runs_cmd

    if args.handler == "demo":
        return await _demo.demo(args, out)
    handlers: dict[str, Command] = {
        "runs.start": _runs_cmd.start, "runs.list": _runs_cmd.list_runs, "runs.get": _runs_cmd.get,
        "runs.cancel": _runs_cmd.cancel, "runs.wait": _runs_cmd.wait, "runs.logs": _runs_cmd.logs,
        "results.list": _results_cmd.list_results, "results.get": _results_cmd.get,
        "results.export": _results_cmd.export, "results.artifacts": _results_cmd.artifacts,
    }  # fmt: skip
    try:
        zof = AsyncZof(
            api_key=args.api_key,
            base_url=args.base_url,
            allow_insecure_http=args.allow_insecure_http,
            max_connections=args.max_connections,
            on_response=out.attempt if args.verbose else None,
        )
    except ConfigurationError as exc:  # said in the CLI's words: it names the option
        words = str(exc).replace("allow_insecure_http=True", "--allow-insecure-http")
        raise ConfigurationError(words) from None
    async with zof:
        return await handlers[args.handler](zof, args, out)


DEFAULT_BASE_URL = "https://api.zof.ai/v1"  # the client's default, as the README says
VERSION = f"zof {__version__} (zof-async, Python {platform.python_version()})"
NO_KEY = "no API key: pass --api-key or set ZOF_API_KEY (zof emulator serves a local API)"


def _base_url(args: argparse.Namespace) -> httpx.URL:
    return httpx.URL(args.base_url or os.environ.get("ZOF_BASE_URL") or DEFAULT_BASE_URL)


def _hint(exc: BaseException, args: argparse.Namespace) -> str | None:
    """What to try after a 404 from a base URL with no version prefix (`/v1`)."""
    url = _base_url(args)
    if not isinstance(exc, NotFoundError) or re.search(r"/v\d+/?$", url.path):
        return None
    versioned = str(url.copy_with(path=url.path.rstrip("/") + "/v1"))
    return f"the base URL {url} has no version prefix: try {versioned}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code (see `zof --help`).

    A closed pipe (`zof ... | head -1`) ends it quietly, with the exit code the
    command has anyway: 0, or a wait's outcome (`PipeClosed.code`).
    """
    try:
        return _main(argv)
    except BrokenPipeError:
        return quiet_exit(Exit.OK)
    except PipeClosed as closed:
        return quiet_exit(closed.code)


def _main(argv: Sequence[str] | None) -> int:
    if list(sys.argv[1:] if argv is None else argv) == ["--version"]:
        print(VERSION)  # no rich needed: a first check that the install works
        return Exit.OK
    try:
        import rich  # noqa: F401
    except ImportError:
        print(
            "the zof command needs the 'cli' extra: pip install 'zof-async[cli]'"
            " (from a clone: pip install -e '.[cli]')",
            file=sys.stderr,
        )
        return Exit.USAGE
    import asyncio

    import anyio

    from zof_async import WaitTimeoutError, ZofError

    args = build_parser().parse_args(argv)
    out = Output(json_lines=args.json)
    if args.handler == "emulator":
        from zof_async.testing.__main__ import main as serve

        return serve(
            ["--port", str(args.port)] + (["--outcome", args.outcome] if args.outcome else [])
        )
    if args.handler == "webhooks.listen":
        return _webhooks_cmd.main(args, out)
    if args.handler != "demo" and not (args.api_key or os.environ.get("ZOF_API_KEY")):
        out.error(ConfigurationError(NO_KEY))
        return Exit.USAGE
    try:
        return int(anyio.run(_dispatch, args, out))
    except MissingExtra as exc:
        print(exc, file=sys.stderr)
        return Exit.USAGE
    except ConfigurationError as exc:
        out.error(exc)
        return Exit.USAGE
    except WaitTimeoutError as exc:  # also an OSError (TimeoutError)
        out.error(exc)
        return Exit.TIMEOUT
    except ZofError as exc:
        return int(out.error(exc, hint=_hint(exc, args)))
    except (BrokenPipeError, PipeClosed):
        raise  # for main: not a usage error
    except (ValueError, TypeError, OSError) as exc:  # e.g. an output path that cannot be used
        out.error(exc)
        return Exit.USAGE
    except (KeyboardInterrupt, asyncio.CancelledError):
        # On Python 3.10 asyncio turns Ctrl-C into the main task's cancellation,
        # which leaves anyio.run as CancelledError; nothing else cancels it.
        if out.json:
            note = {"type": "KeyboardInterrupt", "message": out.on_interrupt or "interrupted"}
            out.err.print(json.dumps({"error": note}), markup=False, highlight=False)
        else:
            message = "interrupted" + (f": {out.on_interrupt}" if out.on_interrupt else "")
            out.err.print(message, markup=False, highlight=False)
        return Exit.INTERRUPTED
