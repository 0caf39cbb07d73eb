"""Fields the API adds: kept in `extra`, given back by `to_dict()`, on runs, results, artifacts.

The seam is a transport in front of the emulator that adds `"new_field": {"a": 1}`
to every object it answers with (and a field to a run's nested `summary` and
`case_outcomes`), and records each object's JSON as sent, by id (and whether it has case outcomes:
a run is both listed and fetched).
"""

from __future__ import annotations

import json
import pickle
from collections.abc import AsyncIterator
from typing import Any

import attrs
import httpx
import pytest

from tests.helpers import KEY, run_json
from zof_async import Artifact, AsyncZof, Result, Run
from zof_async._converter import converter
from zof_async.testing import Emulator, ManualClock

pytestmark = pytest.mark.anyio

NEW = {"a": 1}


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class AddingFields:
    """A transport: the emulator's answers with fields added, and what it sent, by id."""

    def __init__(self, emulator: Emulator, *, add: bool = True) -> None:
        self.inner = emulator.transport()
        self.add = add
        self.sent: dict[tuple[str, bool], dict[str, Any]] = {}

    def _add(self, item: dict[str, Any]) -> None:
        if self.add:
            item["new_field"] = dict(NEW)
            if isinstance(item.get("summary"), dict):
                item["summary"]["flaky"] = 0
            for outcome in item.get("case_outcomes") or ():
                outcome["attempts"] = [1, {"retried": True}]
        self.sent[item["id"], "case_outcomes" in item] = item

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        body = json.loads(await response.aread())
        for item in body.get("data", [body]):
            self._add(item)
        return httpx.Response(response.status_code, json=body)


@pytest.fixture
def emulator() -> Emulator:
    return Emulator(clock=ManualClock())


@pytest.fixture
async def seam(emulator: Emulator) -> AsyncIterator[tuple[AddingFields, AsyncZof]]:
    adding = AddingFields(emulator)
    transport = httpx.MockTransport(adding)
    async with AsyncZof(api_key=emulator.keys.qa, transport=transport) as zof:
        yield adding, zof


def _key(each: Run | Result | Artifact) -> tuple[str, bool]:
    return each.id, isinstance(each, Run) and each.case_outcomes is not None


async def _decoded(zof: AsyncZof) -> list[Run | Result | Artifact]:
    """A listed run, a fetched run (with case outcomes), its results and artifacts."""
    listed = [run async for run in zof.runs.list(page_size=5)][:5]
    run = next(r for r in listed if r.is_terminal)
    fetched = await zof.runs.get(run.id)
    results = await zof.results.list(run_id=run.id).to_list()
    artifacts = await zof.runs.artifacts(run.id).to_list()
    assert results
    assert artifacts
    assert fetched.case_outcomes
    return [*listed, fetched, *results, *artifacts]


async def test_unknown_fields_are_kept_and_given_back(
    seam: tuple[AddingFields, AsyncZof],
) -> None:
    """Every object's `extra` holds the new field; `to_dict()` is the JSON sent, key for key."""
    adding, zof = seam
    for each in await _decoded(zof):
        assert each.extra == {"new_field": NEW}
        assert each.to_dict() == adding.sent[_key(each)]
        assert json.loads(json.dumps(each.to_dict())) == adding.sent[_key(each)]
        if isinstance(each, Run):
            assert each.summary.extra == {"flaky": 0}
            for outcome in each.case_outcomes or ():
                assert outcome.extra == {"attempts": (1, {"retried": True})}


async def test_round_trip_hash_equality_and_pickle(
    seam: tuple[AddingFields, AsyncZof],
) -> None:
    """`structure(to_dict())` gives an equal object; hashes agree; pickling keeps `extra`."""
    _, zof = seam
    for each in await _decoded(zof):
        again = converter.structure(each.to_dict(), type(each))
        assert again == each
        assert hash(again) == hash(each)
        assert again.to_dict() == each.to_dict()
        unpickled = pickle.loads(pickle.dumps(each))
        assert unpickled == each
        assert unpickled.to_dict() == each.to_dict()
        other = attrs.evolve(each, extra={"new_field": {"a": 2}})
        assert other != each  # `extra` counts for equality
        assert attrs.evolve(each, extra={}) != each


async def test_known_fields_decode_as_without_the_new_ones(emulator: Emulator) -> None:
    """The same objects without the added fields: equal but for `extra`, and `extra` empty."""
    plain = AddingFields(emulator, add=False)
    adding = AddingFields(emulator)
    got = []
    for transport in (plain, adding):
        async with AsyncZof(
            api_key=emulator.keys.qa, transport=httpx.MockTransport(transport)
        ) as zof:
            got.append(await _decoded(zof))
    without, with_new = got
    assert len(without) == len(with_new)
    for bare, rich in zip(without, with_new, strict=True):
        assert bare.extra == {}
        assert bare.to_dict() == plain.sent[_key(bare)]
        assert attrs.evolve(rich, extra={}) != rich
        if isinstance(rich, Run):
            rich = attrs.evolve(
                rich,
                summary=attrs.evolve(rich.summary, extra={}),
                case_outcomes=rich.case_outcomes
                and tuple(attrs.evolve(o, extra={}) for o in rich.case_outcomes),
            )
        assert attrs.evolve(rich, extra={}) == bare
        assert repr(attrs.evolve(rich, extra={})) == repr(bare)


async def test_times_come_back_as_sent() -> None:
    """A time in another RFC 3339 spelling (whole seconds, an offset) is given back verbatim."""
    body = run_json(
        created_at="2026-11-22T10:00:00Z",
        started_at="2026-11-22T12:00:00.5+02:00",
        completed_at="2026-11-22T10:00:01.123456789Z",
    )
    del body["url"]  # a field the API leaves out stays out

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    async with AsyncZof(api_key=KEY, transport=httpx.MockTransport(answer)) as zof:
        run = await zof.runs.get("run_1")
    assert run.to_dict() == body
    assert run.extra == {}
    assert run.url is None
    assert run.started_at is not None
    assert run.started_at.isoformat() == "2026-11-22T12:00:00.500000+02:00"
    assert pickle.loads(pickle.dumps(run)).to_dict() == body
    # A model made by hand writes times as the API does, and its `object`.
    made = attrs.evolve(run, created_at=run.created_at.replace(microsecond=7))
    assert made.to_dict()["created_at"] == "2026-11-22T10:00:00.000007Z"


def test_extra_is_read_only_and_hashable() -> None:
    """`extra` cannot be changed, nested objects neither, and a model holding one hashes."""
    run = converter.structure(run_json(new_field={"a": [1, {"b": 2}]}), Run)
    with pytest.raises(TypeError):
        run.extra["new_field"] = 2  # type: ignore[index]
    nested = run.extra["new_field"]
    with pytest.raises(TypeError):
        nested["a"] = 2
    assert nested["a"] == (1, {"b": 2})
    assert hash(run) == hash(converter.structure(run.to_dict(), Run))
    assert "new_field" not in repr(run)  # the repr shows the known fields only


async def test_to_list_is_every_item_of_every_page(
    seam: tuple[AddingFields, AsyncZof],
) -> None:
    """`to_list()` gives what `async for` gives, across pages, and leaves the pager exhausted."""
    _, zof = seam
    run = await anext(aiter(zof.runs.list(page_size=5, status="failed")))
    pager = zof.results.list(run_id=run.id, page_size=2)
    listed = await pager.to_list()
    assert pager.exhausted
    assert await pager.to_list() == []
    assert listed == [r async for r in zof.results.list(run_id=run.id, page_size=50)]
    assert len(listed) > 2
