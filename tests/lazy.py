"""Modules imported on first use, so that collecting a test file does not import them.

Every pytest-xdist worker collects every test file, but the Ray tests run on
one worker (tests/conftest.py): importing Ray (seconds of CPU) at collection
would cost each worker that time for nothing.
"""

from __future__ import annotations

import importlib
import importlib.util
import types
from typing import Any

import pytest


class LazyModule(types.ModuleType):
    """Stands for the module `name`, imported on the first read of a public attribute.

    Private names are not looked up: pytest reads some of every object in a
    test module's namespace (`_pytestfixturefunction`...) while collecting.
    """

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):
            raise AttributeError(attribute)
        module = importlib.import_module(self.__name__)
        self.__dict__.update(module.__dict__)
        return getattr(module, attribute)


def lazy_or_skip(name: str, reason: str) -> Any:
    """`name` as a `LazyModule`, or skip the calling test module if it is not installed."""
    top = name.partition(".")[0]
    if importlib.util.find_spec(top) is None:
        pytest.skip(reason, allow_module_level=True)
    return LazyModule(name)
