"""The public surface: one door (`zof_async`), every name in `__all__`, each named `zof_async.X`."""

from __future__ import annotations

import importlib
import inspect
import types
from typing import is_typeddict

import pytest

import zof_async
from tests.helpers import run_json as run_data


def test_all_is_exactly_the_public_names_and_sorted() -> None:
    """`__all__` lists every public name of the package and nothing else, sorted."""
    public = {
        name
        for name, value in vars(zof_async).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert set(zof_async.__all__) == public | {"__version__"}
    assert zof_async.__all__ == sorted(zof_async.__all__)
    assert len(zof_async.__all__) == len(set(zof_async.__all__))


def test_public_classes_and_functions_say_they_are_zof_async() -> None:
    """Reprs, tracebacks and docs show `zof_async.X`, not the private module defining it."""
    for name in zof_async.__all__:
        obj = getattr(zof_async, name)
        is_class = inspect.isclass(obj) and not isinstance(obj, types.GenericAlias)
        if (is_class and not is_typeddict(obj)) or inspect.isfunction(obj):
            assert obj.__module__ == "zof_async", name


def test_models_still_decode_after_their_module_is_renamed() -> None:
    """String annotations were resolved where they were written, so models still structure."""
    from zof_async._converter import converter

    batch = converter.structure(
        {"result_id": "res_1", "artifacts": None, "error": None}, zof_async.ArtifactBatch
    )
    assert batch.result_id == "res_1"
    assert repr(zof_async.NotFoundError).startswith("<class 'zof_async.NotFoundError'")


def test_type_hints_and_subclasses_of_renamed_classes_still_resolve() -> None:
    """get_type_hints works on every public class, and a user's subclass of a model structures."""
    import typing

    import attrs

    from zof_async._converter import converter

    for name in zof_async.__all__:
        obj = getattr(zof_async, name)
        if inspect.isclass(obj) and not isinstance(obj, types.GenericAlias):
            typing.get_type_hints(obj)

    @attrs.frozen
    class LabelledRun(zof_async.Run):
        label: str = "mine"

    mine = converter.structure(run_data(), LabelledRun)
    assert mine.label == "mine" and mine.id == converter.structure(run_data(), zof_async.Run).id


def test_listings_name_their_filters_in_their_signatures() -> None:
    """help() and IDEs show each listing's filters as keyword-only parameters, not a **kwargs."""
    zof = zof_async.AsyncZof(api_key="zof_test_signature")
    for method, filters in (
        (zof.runs.list, ["project_id", "status", "created_after", "created_before"]),
        (zof.results.list, ["run_id", "status", "created_after", "created_before"]),
    ):
        params = inspect.signature(method).parameters
        named = [n for n, p in params.items() if p.kind is inspect.Parameter.KEYWORD_ONLY]
        assert named == filters, method
        assert params[filters[0]].default is None


@pytest.mark.parametrize(
    "name",
    [
        "zof_async",
        "zof_async.dask",
        "zof_async.dlt",
        "zof_async.otel",
        "zof_async.ray",
        "zof_async.testing",
    ],
)
def test_each_public_module_exposes_exactly_its_all(name: str) -> None:
    """A public module's namespace is its `__all__`: no `os`, `Any` or helper leaks out.

    Each of its classes and functions names that module as its own, as
    `zof_async.X` does (reprs, tracebacks, docs); the implementation lives in
    private modules.
    """
    module = importlib.import_module(name)
    exposed = {
        attr
        for attr, value in vars(module).items()
        if not attr.startswith(("_", "@"))  # "@py_builtins": pytest rewrote its asserts
        and not (isinstance(value, types.ModuleType) and value.__name__.startswith(f"{name}."))
    }
    assert exposed == set(module.__all__) - {"__version__"}
    for attr in module.__all__:
        obj = getattr(module, attr)
        is_class = inspect.isclass(obj) and not isinstance(obj, types.GenericAlias)
        if (is_class and not is_typeddict(obj)) or inspect.isfunction(obj):
            assert obj.__module__ == name, attr
