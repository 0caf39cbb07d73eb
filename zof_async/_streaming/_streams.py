"""Streamed bodies: logs, exports and artifact content, and writing them to disk.

A stream is opened on first use and holds its connection slot until it is
exhausted, closed (`aclose()`), or its `async with` block ends. Errors in the
middle of a body surface as `APIConnectionError`, never as a half result.
Files are written to a temporary name beside the target and renamed into
place only when complete, so a failure leaves no partial file.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Generic, TypeVar

import anyio
import httpx

from .._exceptions import (
    APIConnectionError,
    APIResponseValidationError,
    describe,
    transport_error,
)
from .._http._pipeline import Pipeline
from .._http._settings import DEFAULT_CALL, Call

if TYPE_CHECKING:  # annotations only: no typing_extensions to import at run time on 3.10
    if sys.version_info >= (3, 11):
        from typing import Self
    else:
        from typing_extensions import Self

T = TypeVar("T")


class _Stream(Generic[T]):
    """An async iterator over a streamed response; also an async context manager."""

    def __init__(
        self,
        pipeline: Pipeline,
        request: httpx.Request,
        call: Call = DEFAULT_CALL,
        *,
        expect: str | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._request = request
        self._call = call
        self._expect = expect
        self._refusal: APIResponseValidationError | None = None
        self._stack: AsyncExitStack | None = None
        self._iterator: AsyncGenerator[T, None] | None = None
        self.response: httpx.Response | None = None

    def _iterate(self, response: httpx.Response) -> AsyncGenerator[T, None]:
        raise NotImplementedError

    async def open(self) -> httpx.Response:
        """Send the request (with retries until the headers arrive)."""
        if self._refusal is not None:
            raise self._refusal
        if self.response is None:
            stack = AsyncExitStack()
            try:
                self.response = await stack.enter_async_context(
                    self._pipeline.stream(self._request, self._call)
                )
            except BaseException:
                await stack.aclose()
                raise
            self._stack = stack
            self._iterator = self._iterate(self.response)
            if self._expect is not None:
                await self._check_type(self.response, self._expect)
        return self.response

    async def _check_type(self, response: httpx.Response, expect: str) -> None:
        """Reject a body of another media type than asked for, before reading it."""
        got = response.headers.get("content-type", "")
        if got.split(";", 1)[0].strip().lower() != expect:
            self._refusal = APIResponseValidationError(
                f"{describe(self._request)}: asked for {expect}, got {got or 'no Content-Type'}",
                response=response,
            )
            self._pipeline.redactor.exception(self._refusal)
            await self.aclose()
            raise self._refusal

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        await self.open()
        if self._iterator is None:  # closed
            raise StopAsyncIteration
        error: APIConnectionError
        try:
            return await self._iterator.__anext__()
        except StopAsyncIteration:
            await self.aclose()
            raise
        except (httpx.RequestError, OSError) as exc:
            await self.aclose()
            error = transport_error(self._request, exc, in_body=True)
            error.__cause__ = exc
        # Raised outside the handlers, so that the scrubbed chain is the one shown.
        raise self._pipeline.redactor.exception(error)

    async def aclose(self) -> None:
        """Close the body's iterator and the response; give the connection slot back."""
        iterator, self._iterator = self._iterator, None
        stack, self._stack = self._stack, None
        with anyio.CancelScope(shield=True):
            try:
                if iterator is not None:
                    await iterator.aclose()
            finally:
                if stack is not None:
                    await stack.aclose()

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class ByteStream(_Stream[bytes]):
    """The body as chunks of bytes."""

    def _iterate(self, response: httpx.Response) -> AsyncGenerator[bytes, None]:
        return _closing(response.aiter_bytes())


class LineStream(_Stream[str]):
    """The body as lines of text, without their line endings."""

    def _iterate(self, response: httpx.Response) -> AsyncGenerator[str, None]:
        return _closing(response.aiter_lines())


async def _closing(body: AsyncIterator[T]) -> AsyncGenerator[T, None]:
    """`body` (an httpx `aiter_*` generator), closed when this generator is closed.

    `_Stream.aclose()` closes this one at once rather than leaving it to the
    garbage collector, which trio reports as a `ResourceWarning`. (The inner
    generators of httpx's own chain are left to it; see pyproject's
    filterwarnings.)
    """
    async with contextlib.aclosing(body) as chunks:  # type: ignore[type-var]
        async for chunk in chunks:
            yield chunk


class TransportChunks:
    """A response body's chunks, a transport's raw `OSError` or `EOFError` as `httpx.ReadError`.

    So whoever writes them to a file can tell a broken connection (an httpx
    error, retried) from a failing disk (an `OSError`, the caller's).
    """

    def __init__(self, response: httpx.Response) -> None:
        self._chunks = response.aiter_bytes()
        self._request = response.request

    def __aiter__(self) -> TransportChunks:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._chunks.__anext__()
        except (OSError, EOFError) as exc:
            message = f"{type(exc).__name__}: {exc}"
            raise httpx.ReadError(message, request=self._request) from exc

    async def aclose(self) -> None:
        """Close the body's iterator (an httpx async generator)."""
        await self._chunks.aclose()  # type: ignore[attr-defined]


def _create_beside(target: Path) -> str:
    """Create a new, empty temporary file beside `target`; return its name.

    Opened with mode 0666, as `open(path, "w")` does, so the umask decides the
    final file's mode (usually 0644): `tempfile.mkstemp` would make it 0600.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = str(target.parent / f".{target.name}.{secrets.token_hex(6)}.part")
        try:
            os.close(os.open(name, flags, 0o666))
        except FileExistsError:
            continue
        return name
    raise FileExistsError(f"no free temporary name beside {target}")


async def write_atomically(
    path: str | os.PathLike[str],
    chunks: AsyncIterable[bytes],
    *,
    check: Callable[[int], None] | None = None,
    on_chunk: Callable[[int], object] | None = None,
) -> int:
    """Write `chunks` to `path` via a temporary file; return the bytes written.

    `check(size)` runs before the rename and may raise to reject the result.
    On any failure the temporary file is removed and `path` is untouched.
    Closing `chunks` is the caller's.
    """
    target = Path(path)
    tmp_name = _create_beside(target)
    try:
        size = 0
        async with await anyio.open_file(tmp_name, "wb") as out:
            async for chunk in chunks:
                await out.write(chunk)
                size += len(chunk)
                if on_chunk is not None:
                    on_chunk(len(chunk))
            await out.flush()
            await anyio.to_thread.run_sync(os.fsync, out.wrapped.fileno())
        if check is not None:
            check(size)
        await anyio.to_thread.run_sync(os.replace, tmp_name, target)
        return size
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
