"""The emulator over real HTTP on 127.0.0.1: the docs' curl, the shell entry, Schemathesis."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest
import yaml
from openapi_spec_validator import validate

import zof_async.testing
from tests.processes import started
from zof_async.testing import Emulator, SystemClock

OPENAPI = Path(zof_async.testing.__file__).with_name("openapi.yaml")
SEED = Path(__file__).parents[3] / "shared" / "seeds" / "004_c96a5cc267a00970.txt"

pytestmark = pytest.mark.served


def test_openapi_document_is_valid() -> None:
    """openapi.yaml is valid OpenAPI and describes exactly the API's eleven operations."""
    document = yaml.safe_load(OPENAPI.read_text())
    validate(document)
    operations = {
        (m.upper(), p) for p, item in document["paths"].items() for m in item if m != "parameters"
    }
    assert operations == {
        ("GET", "/runs"), ("POST", "/runs"), ("GET", "/runs/{id}"), ("POST", "/runs/{id}/cancel"),
        ("GET", "/runs/{id}/logs"), ("GET", "/runs/{id}/artifacts"), ("GET", "/results"),
        ("GET", "/results/{id}"), ("GET", "/results/{id}/artifacts"), ("POST", "/results/export"),
        ("GET", "/artifacts/{id}/content"),
    }  # fmt: skip


def curl_from_seed() -> str:
    """The 'Start run (curl)' example of the docs, as written there."""
    if SEED.exists():
        text = SEED.read_text()
        return text[text.index("curl -X POST") : text.index("}'") + 2]
    return (  # the same text, for a checkout without shared/ beside it
        'curl -X POST https://api.zof.ai/v1/runs \\\n  -H "Authorization: Bearer $ZOF_API_KEY" \\\n'
        '  -H "Content-Type: application/json" \\\n  -d \'{\n    "project_id": "proj_abc",\n'
        '    "environment": "staging",\n    "test_suite_id": "suite_pr_smoke"\n  }\''
    )


@pytest.mark.anyio
@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
async def test_docs_curl_example_starts_a_run() -> None:
    """The docs' curl example, run as written against the served emulator, starts a run."""
    emulator = Emulator(data="minimal", clock=SystemClock())
    async with emulator.serve() as base_url:
        command = curl_from_seed().replace("https://api.zof.ai/v1", base_url)
        command = command.replace("curl ", "curl -sS --fail-with-body ", 1)
        with anyio.fail_after(30):
            out = await anyio.run_process(
                ["bash", "-c", command],
                env={"ZOF_API_KEY": emulator.keys.qa, "PATH": "/usr/bin:/bin"},
            )
    run = json.loads(out.stdout)
    assert run["object"] == "run" and run["status"] == "queued"
    assert run["test_suite_id"] == "suite_pr_smoke" and run["summary"]["total"] == 25


def test_shell_entry_prints_url_and_key_and_serves() -> None:
    """`python -m zof_async.testing` prints its URL and key, then answers on that URL."""
    with started(
        [sys.executable, "-m", "zof_async.testing", "--port", "0", "--data", "minimal"],
        stdout=subprocess.PIPE,
    ) as process:
        assert process.stdout is not None
        header = "".join(process.stdout.readline() for _ in range(3))
        base_url = re.search(r"ZOF_BASE_URL=(\S+)", header).group(1)  # type: ignore[union-attr]
        key = re.search(r"ZOF_API_KEY=(\S+)", header).group(1)  # type: ignore[union-attr]
        # The socket listens before the header is printed: the request waits in its
        # backlog until the server accepts it, so no retry loop is needed.
        response = httpx.get(
            f"{base_url}/runs", headers={"Authorization": f"Bearer {key}"}, timeout=60
        )
        assert response.status_code == 200
        assert response.headers["x-request-id"]


@pytest.mark.anyio
async def test_schemathesis_against_the_served_emulator(tmp_path: Path) -> None:
    """Every operation, all phases: no 5xx, every response conforming to the document.

    `positive_data_acceptance` is left out: the API rightly answers 400/404 to
    schema-valid but semantically wrong input (a made-up cursor, an environment
    the organization has not configured), which no schema can express.
    """
    emulator = Emulator(data="minimal", clock=SystemClock())
    async with emulator.serve() as base_url:
        with anyio.fail_after(240):
            out = await anyio.run_process(
            [
                sys.executable, "-m", "schemathesis.cli", "run", str(OPENAPI),
                "--url", base_url,
                "-H", f"Authorization: Bearer {emulator.keys.admin}",
                "--checks", "all", "--exclude-checks", "positive_data_acceptance",
                "--max-examples", "25", "--seed", "7", "--workers", "1",
                "--no-color",
            ],
            check=False, cwd=tmp_path,
        )  # fmt: skip
    stdout = out.stdout.decode()
    assert out.returncode == 0, stdout[-6000:] + out.stderr.decode()[-2000:]
    assert "Tested: 11" in stdout
    assert emulator.stats.count(status=500) == 0
