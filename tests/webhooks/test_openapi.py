"""The emulator's openapi.yaml describes the run.completed webhook, and deliveries match it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import jsonschema  # type: ignore[import-untyped]  # jsonschema ships no stubs
import pytest
import yaml
from openapi_spec_validator import validate

import zof_async.testing
from zof_async.testing import Emulator, RunScript

OPENAPI = Path(zof_async.testing.__file__).with_name("openapi.yaml")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(OPENAPI.read_text())
    return loaded


def schema_of(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator resolving `#/components/...` against the document."""
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]})


def test_the_document_with_its_webhooks_section_is_valid_openapi_3_1(
    document: dict[str, Any],
) -> None:
    """openapi.yaml is valid OpenAPI 3.1 and documents run.completed with its three headers."""
    validate(document)
    assert document["openapi"].startswith("3.1")
    operation = document["webhooks"]["run.completed"]["post"]
    headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
    assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}
    assert set(operation["responses"]) == {"2XX"}


@pytest.mark.anyio
async def test_emulator_deliveries_match_the_described_webhook(
    document: dict[str, Any], emulator: Emulator
) -> None:
    """Every emulator delivery matches the documented webhook schema, which rejects broken events."""
    operation = document["webhooks"]["run.completed"]["post"]
    body_schema = operation["requestBody"]["content"]["application/json"]["schema"]
    requests: list[httpx.Request] = []
    emulator.add_webhook_endpoint(
        "https://hooks.test/",
        transport=httpx.MockTransport(
            lambda r: requests.append(r) or httpx.Response(200)  # type: ignore[func-returns-value]
        ),
    )
    emulator.rotate_webhook_secret("https://hooks.test/")
    for outcome in ("passed", "failed", "error"):
        emulator.add_run("proj_abc", script=RunScript(outcome=outcome, duration_seconds=5))
    emulator.add_run("proj_abc", script=RunScript(duration_seconds=5), environment="production")
    emulator.advance(60)
    await emulator.deliver_webhooks()
    assert len(requests) == 4
    for request in requests:
        schema_of(document, body_schema).validate(yaml.safe_load(request.content))
        for parameter in operation["parameters"]:
            value = request.headers[parameter["name"]]
            schema_of(document, parameter["schema"]).validate(value)
    # The schema is not vacuous: a run with case_outcomes, or another type, fails it.
    body = yaml.safe_load(requests[0].content)
    for broken in (
        {**body, "type": "run.started"},
        {**body, "data": {"object": {**body["data"]["object"], "case_outcomes": []}}},
        {**body, "data": {"object": {"id": "run_1"}}},
    ):
        with pytest.raises(jsonschema.ValidationError):
            schema_of(document, body_schema).validate(broken)
