"""openapi.yaml and the emulator agree on which list parameters may be empty (issue 21, item 14).

The emulator answers 400 to `?status=` (an empty list); a document without
`minItems: 1` calls that request valid, and Schemathesis's
`positive_data_acceptance` check reports it as "schema-valid request rejected".
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import yaml

import zof_async.testing
from zof_async.testing import Emulator, SystemClock

from .helpers import assert_error

OPENAPI = Path(zof_async.testing.__file__).with_name("openapi.yaml")


def load() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(OPENAPI.read_text())
    return document


def list_parameters(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """`(path, parameter)` for every query parameter whose schema is an array."""
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method != "get":
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and parameter["schema"].get("type") == "array":
                    found.append((path, parameter))
    return found


@pytest.mark.anyio
async def test_each_list_parameter_is_empty_exactly_when_the_document_allows_it(
    emulator: Emulator, http: httpx.AsyncClient
) -> None:
    """`?status=` is a 400 naming the parameter where the document says `minItems: 1`, else a 200."""
    parameters = list_parameters(load())
    assert {(path, p["name"]) for path, p in parameters} == {
        ("/runs", "status"),
        ("/results", "status"),
    }
    for path, parameter in parameters:
        response = await http.get(path, params={parameter["name"]: ""})
        if parameter["schema"].get("minItems", 0) >= 1:
            assert_error(response, 400, "invalid_request", parameter["name"])
        else:
            assert response.status_code == 200, (path, parameter, response.text)
        one = parameter["schema"]["items"]["$ref"].rsplit("/", 1)[1]
        allowed = load()["components"]["schemas"][one]["enum"]
        both = await http.get(path, params={parameter["name"]: ",".join(allowed[:2])})
        assert both.status_code == 200


def without_unexpressible_inputs(document: dict[str, Any]) -> dict[str, Any]:
    """The document minus what no schema can say the API refuses.

    A made-up cursor (any string but a `next_cursor` of the same listing) and
    an environment the organization has not configured are rightly a 400: the
    cursor parameters and `POST /runs` are taken out; everything else a
    schema-valid request may hold, the emulator must accept.
    """
    reduced = copy.deepcopy(document)
    del reduced["paths"]["/runs"]["post"]
    for item in reduced["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and "parameters" in operation:
                operation["parameters"] = [
                    p
                    for p in operation["parameters"]
                    if p != {"$ref": "#/components/parameters/Cursor"}
                ]
    return reduced


@pytest.mark.slow
@pytest.mark.served
@pytest.mark.anyio
async def test_schemathesis_finds_no_schema_valid_request_rejected(tmp_path: Path) -> None:
    """positive_data_acceptance, every phase: 0 schema-valid requests answered 400."""
    reduced = tmp_path / "openapi.yaml"
    reduced.write_text(yaml.safe_dump(without_unexpressible_inputs(load())))
    emulator = Emulator(data="minimal", clock=SystemClock())
    async with emulator.serve() as base_url:
        with anyio.fail_after(240):
            out = await anyio.run_process(
            [
                sys.executable, "-m", "schemathesis.cli", "run", str(reduced),
                "--url", base_url,
                "-H", f"Authorization: Bearer {emulator.keys.admin}",
                "--checks", "positive_data_acceptance",
                "--max-examples", "25", "--seed", "7", "--workers", "1",
                "--no-color",
            ],
            check=False, cwd=tmp_path,
        )  # fmt: skip
    stdout = out.stdout.decode()
    assert out.returncode == 0, stdout[-6000:] + out.stderr.decode()[-2000:]
    assert "Tested: 10" in stdout
    assert "Schema-valid request rejected" not in stdout
