"""`with_raw_response`: any method's value together with its answer's metadata.

One generic wrapper, `raw`, turns a method returning `T` into one returning
`RawResponse[T]` with the same parameters: it runs the method on a copy of
its resource whose calls name a fresh `Capture` (`_http._raw_response`), which
the pipeline fills in as the call succeeds. A copy per invocation, so
concurrent calls never share one. Each resource lists the methods it offers this way (every method
that returns a value from one call; a test checks none is missing).
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from .._http._raw_response import Capture, RawResponse

__all__ = ["raw"]

P = ParamSpec("P")
T = TypeVar("T")


def raw(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[RawResponse[T]]]:
    """`method`, returning its value with the metadata of the answer it came from.

    For a method that sends more than one request, the metadata is that of
    the last call that succeeded.
    """

    resource = method.__self__  # type: ignore[attr-defined]
    name = method.__name__

    @functools.wraps(method)
    async def with_metadata(*args: P.args, **kwargs: P.kwargs) -> RawResponse[T]:
        holder = Capture()
        recording = copy.copy(resource)
        recording._capture = holder
        value: T = await getattr(recording, name)(*args, **kwargs)
        return holder.result(value)

    # What `help()` and `inspect.signature` show: the method's parameters, this return.
    signature = inspect.signature(method)
    result = signature.return_annotation
    returned = getattr(result, "__name__", result)
    with_metadata.__signature__ = signature.replace(  # type: ignore[attr-defined]
        return_annotation=f"RawResponse[{returned}]"
    )

    return with_metadata
