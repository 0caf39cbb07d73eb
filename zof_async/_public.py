"""Naming the public objects `zof_async.X`, as they are documented and imported."""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Iterable, Mapping
from typing import Any, is_typeddict

import attrs


def name_public_objects(namespace: Mapping[str, Any], names: Iterable[str]) -> None:
    """Set `__module__ = "zof_async"` on each public class and function in `names`.

    String annotations of attrs classes are resolved against their defining
    module first (attrs caches them), so nothing later looks them up in the
    package. TypedDicts keep their module: `typing.get_type_hints` reads it.
    Constants (`EVENTS_POLICY`) keep their class's name.
    """
    for name in names:
        obj = namespace[name]
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if not obj.__module__.startswith("zof_async.") or is_typeddict(obj):
            continue
        if inspect.isclass(obj) and attrs.has(obj):
            attrs.resolve_types(obj)
        with contextlib.suppress(AttributeError, TypeError):  # not settable
            obj.__module__ = "zof_async"
