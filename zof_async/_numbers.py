"""Numeric arguments, checked in one wording before they are used.

`wait_until_complete(run_id, timeout="30m")` must say `timeout must be a number
of seconds, not str`, not fail deep inside with `'<=' not supported between
instances of 'str' and 'int'`. These check the type only (a `bool` is not a
number here: `timeout=True` is a mistake, not one second); each caller keeps
its own range rule. `error` is the exception to raise (`ConfigurationError`
for client settings), `TypeError` by default.
"""

from __future__ import annotations

from typing import Any

__all__ = ["at_least", "integer", "number", "seconds"]


def _refuse(name: str, what: str, value: object, error: type[Exception]) -> Exception:
    return error(f"{name} must be {what}, not {type(value).__name__}")


def seconds(name: str, value: object, *, error: type[Exception] = TypeError) -> float:
    """`value` if it is a number of seconds (an int or a float, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(name, "a number of seconds", value, error)
    return value


def number(name: str, value: object, *, error: type[Exception] = TypeError) -> float:
    """`value` if it is a number (an int or a float, not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refuse(name, "a number", value, error)
    return value


def integer(name: str, value: object, *, error: type[Exception] = TypeError) -> int:
    """`value` if it is an integer (not a bool)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(name, "an integer", value, error)
    return value


def at_least(minimum: float, *, whole: bool = False) -> Any:
    """An attrs validator: a number (an integer if `whole`) of at least `minimum`."""

    def check(_: object, attribute: Any, value: object) -> None:
        checked = integer(attribute.name, value) if whole else number(attribute.name, value)
        if not checked >= minimum:  # NaN too
            raise ValueError(f"{attribute.name} must be at least {minimum}, not {value!r}")

    return check
