"""Naming the public objects `zof_async.X`, as they are documented and imported."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterable, Mapping
from typing import Any, get_type_hints, is_typeddict

import attrs


def name_public_objects(
    namespace: Mapping[str, Any], names: Iterable[str], module: str = "zof_async"
) -> None:
    """Set `__module__ = module` (a public door) on each public class and function in `names`.

    A class's own string annotations are first resolved against its defining
    module (and attrs' field types with them), so `typing.get_type_hints`,
    cattrs and subclasses of the models never look them up in the package. A
    class whose annotations cannot be resolved keeps its module. TypedDicts
    keep theirs (their hints are read from it). Constants (`EVENTS_POLICY`)
    keep their class's name. As in trio and httpx, `inspect.getsource` cannot
    find a renamed class.
    """
    for name in names:
        obj = namespace[name]
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not obj.__module__.startswith("zof_async.") or obj.__module__ == module:
            continue
        if is_typeddict(obj):
            continue
        if inspect.isclass(obj):
            own = vars(obj).get("__annotations__", {})
            try:
                hints = get_type_hints(obj)
            except (NameError, TypeError):  # pragma: no cover - a name only for type checkers
                continue
            if own:
                obj.__annotations__ = {name: hints.get(name, own[name]) for name in own}
            if attrs.has(obj):
                attrs.resolve_types(obj)
        with contextlib.suppress(AttributeError, TypeError):  # not settable
            obj.__module__ = module
