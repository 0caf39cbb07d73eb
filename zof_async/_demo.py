"""`nox -s demo`: start the emulator on 127.0.0.1 and make a few real calls.

A placeholder of the foundation: the full demo (through `AsyncZof`) replaces it.
"""

from __future__ import annotations

import anyio
import httpx

from zof_async.testing import Emulator, RunScript, SystemClock


async def main() -> None:
    emulator = Emulator(
        clock=SystemClock(), run_script=RunScript(queue_seconds=0.2, duration_seconds=2)
    )
    async with emulator.serve() as base_url:
        print(f"emulator serving on {base_url}")
        headers = {"Authorization": f"Bearer {emulator.keys.qa}"}
        async with httpx.AsyncClient(base_url=base_url, headers=headers) as http:
            body = {
                "project_id": "proj_abc",
                "environment": "staging",
                "test_suite_id": "suite_pr_smoke",
            }
            run = (await http.post("/runs", json=body)).json()
            print(f"POST /runs -> {run['id']} {run['status']}")
            while run["status"] in ("queued", "running"):
                await anyio.sleep(0.5)
                run = (await http.get(f"/runs/{run['id']}")).json()
                print(f"GET /runs/{run['id']} -> {run['status']} {run['summary']}")
            page = (await http.get("/results", params={"run_id": run["id"], "limit": 5})).json()
            for result in page["data"]:
                print(
                    f"  {result['test_case_id']}: {result['status']} ({result['duration_ms']} ms)"
                )
    print("demo finished")


if __name__ == "__main__":
    anyio.run(main)
