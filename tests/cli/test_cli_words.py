"""The real `zof` speaks in its own words: options, not Python arguments; usage errors exit 2."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

from tests.cli.serving import ZOF, serving
from tests.processes import run
from zof_async.testing import Emulator, SystemClock

pytestmark = pytest.mark.served


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """The emulator (with its history), served; `zof` pointed at it through the environment."""
    emulator = Emulator(clock=SystemClock(), poll_hint=None)
    with pytest.MonkeyPatch.context() as monkeypatch, serving(emulator, monkeypatch) as url:
        yield url


def zof(*args: str, **env: str) -> tuple[int, str, str]:
    """Run the real `zof` with `env` over this environment (a value "" removes it)."""
    base = {k: v for k, v in os.environ.items() if k != "ZOF_WEBHOOK_SECRET"}
    environment = {k: v for k, v in {**base, **env}.items() if v}
    done = run([ZOF, *args], timeout=60, env=environment)
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize(
    "args",
    [["runs", "--json", "list"], ["--json", "runs", "list"], ["runs", "list", "--json"]],
    ids=" ".join,
)
def test_global_options_go_before_or_after_the_group_or_the_command(
    base_url: str, args: list[str]
) -> None:
    """`zof runs --json list` works as the README says: options go before or after."""
    code, out, err = zof(*args, "--limit", "1")
    assert code == 0, err
    assert json.loads(out)["id"].startswith("run_")


def test_webhooks_listen_takes_the_global_options_and_names_its_own_secret_option() -> None:
    """`zof webhooks listen --json` without a secret: exit 2, in the CLI's words, as JSON."""
    code, _, err = zof("webhooks", "listen", "--port", "0", "--json")
    assert code == 2
    message = json.loads(err)["error"]["message"]
    assert "--secret" in message and "ZOF_WEBHOOK_SECRET" in message
    assert "secret=" not in message
    code, _, err = zof("webhooks", "listen", "--port", "0")
    assert code == 2
    assert "--secret" in err and "secret=" not in err


@pytest.mark.parametrize("limit", ["0", "-3", "ten"])
def test_a_limit_that_is_not_a_positive_number_is_refused_as_limit(limit: str) -> None:
    """`--limit 0` names --limit, not the SDK's page_size; exit 2 before any request."""
    code, _, err = zof("runs", "list", "--limit", limit, ZOF_API_KEY="zof_emu_qa_acme")
    assert code == 2
    assert "--limit" in err and "page_size" not in err


def test_a_limit_above_a_page_still_works(base_url: str) -> None:
    """`--limit 1500` is two pages (at most 1000 each), not an error."""
    code, out, err = zof("results", "list", "--limit", "1500")
    assert code == 0, err
    assert out.count("\n") == 1500


@pytest.mark.parametrize("group", ["runs", "results"])
def test_an_unknown_status_is_a_usage_error_naming_the_known_ones(group: str) -> None:
    """`--status bogus` exits 2 before any request (nothing listens at the base URL)."""
    env = {"ZOF_API_KEY": "zof_emu_qa_acme", "ZOF_BASE_URL": "http://127.0.0.1:9/v1"}
    code, _, err = zof(group, "list", "--status", "failed,bogus", **env)
    assert code == 2
    assert "bogus" in err and "passed" in err


def test_plain_http_to_a_remote_host_names_the_cli_option() -> None:
    """The refusal of http:// to a remote host names --allow-insecure-http, not a Python argument."""
    env = {"ZOF_API_KEY": "zof_emu_qa_acme", "ZOF_BASE_URL": "http://zof.example/v1"}
    code, _, err = zof("--json", "runs", "list", **env)
    assert code == 2
    error = json.loads(err)["error"]
    assert "--allow-insecure-http" in error["message"]
    assert "allow_insecure_http" not in error["message"]
    assert error["type"] == "ConfigurationError"


def test_allow_insecure_http_sends_over_plain_http() -> None:
    """With --allow-insecure-http the request is sent (and here refused: nothing listens)."""
    env = {"ZOF_API_KEY": "zof_emu_qa_acme", "ZOF_BASE_URL": "http://zof.invalid/v1"}
    code, _, err = zof("runs", "list", "--allow-insecure-http", **env)
    assert code == 6, err
    assert "zof.invalid" in err


def test_no_key_is_a_configuration_error_in_json() -> None:
    """No API key with --json: the type is the SDK's ConfigurationError, not ValueError."""
    code, _, err = zof("--json", "runs", "list", ZOF_API_KEY="")
    assert code == 2
    assert json.loads(err)["error"]["type"] == "ConfigurationError"


def test_verbose_on_a_connection_error_prints_no_request_id_of_none() -> None:
    """`-v` when nothing answers: each attempt line, without `[request_id: None]`."""
    env = {"ZOF_API_KEY": "zof_emu_qa_acme", "ZOF_BASE_URL": "http://127.0.0.1:9/v1"}
    code, _, err = zof("-v", "runs", "list", **env)
    assert code == 6
    assert "ConnectError" in err
    assert "None" not in err


def test_a_base_url_without_the_version_prefix_gets_a_hint(base_url: str) -> None:
    """`ZOF_BASE_URL` without `/v1` answers 404: the error says what to try."""
    root = base_url.removesuffix("/v1")
    code, _, err = zof("runs", "list", ZOF_BASE_URL=root)
    assert code == 6
    assert f"{root}/v1" in err
