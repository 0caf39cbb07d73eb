"""Helpers shared by the emulator tests."""

from __future__ import annotations

import httpx

SMOKE = {"project_id": "proj_abc", "environment": "staging", "test_suite_id": "suite_pr_smoke"}


def assert_error(
    response: httpx.Response, status: int, code: str, param: str | None = None
) -> None:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert error.get("param") == param
    assert response.headers["x-request-id"].startswith("req_")
