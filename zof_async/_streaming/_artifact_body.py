"""An artifact's content: the checks every way of reading it makes, and the byte stream.

`download`, `read`, `open` and `download_many` check the same things:

- on opening, the answer's media type is the artifact's declared one, or the
  generic `application/octet-stream` a server sends when it cannot say more
  (or none, which means the same); anything else, e.g. a proxy's HTML page,
  is not the artifact;
- with a `max_bytes`, a declared size over it is refused before the body is
  read, and a body is refused as soon as the bytes counted pass it;
- the size: a body longer than expected is refused as soon as it is, a
  shorter one when it ends. The expected size is the artifact's `size_bytes`,
  or, given only an id, the answer's `Content-Length`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

import attrs
import httpx

from .._exceptions import APIResponseValidationError, ArtifactTooLargeError, ZofError
from .._http._pipeline import Pipeline
from .._http._settings import Call
from ._streams import ByteStream

__all__ = ["OCTET_STREAM", "ArtifactBody", "ContentCheck"]

OCTET_STREAM = "application/octet-stream"


def _media_type(value: str) -> str:
    return value.split(";", 1)[0].strip().lower()


@attrs.frozen(kw_only=True)
class ContentCheck:
    """What an artifact's answer must be; each method raises the error a breach is.

    Attributes:
        artifact_id: The artifact, for the messages.
        size: Its declared `size_bytes`; `None` given only an id.
        content_type: Its declared type; `None` given only an id (not checked).
        max_bytes: The most bytes the caller takes; `None` for no limit.
    """

    artifact_id: str
    size: int | None = None
    content_type: str | None = None
    max_bytes: int | None = None

    def before_sending(self) -> None:
        """Refuse, before any request, an artifact declared larger than `max_bytes`."""
        if self.max_bytes is not None and self.size is not None and self.size > self.max_bytes:
            raise ArtifactTooLargeError(self.artifact_id, max_bytes=self.max_bytes, size=self.size)

    def expected(self, response: httpx.Response) -> int | None:
        """The size the body must have: the declared one, else the Content-Length."""
        if self.size is not None:
            return self.size
        length = response.headers.get("content-length", "")
        return int(length) if length.isdigit() else None

    def opened(self, response: httpx.Response) -> None:
        """The answer's headers: its media type, and a declared length over `max_bytes`."""
        if self.content_type is not None:
            want = _media_type(self.content_type)
            got = response.headers.get("content-type", "")
            # No Content-Type: "application/octet-stream" may be assumed (RFC 9110, 8.3).
            if (_media_type(got) or OCTET_STREAM) not in (want, OCTET_STREAM):
                raise APIResponseValidationError(
                    f"artifact {self.artifact_id}: expected {want} (or {OCTET_STREAM}), "
                    f"got {got or 'no Content-Type'}",
                    response=response,
                )
        size = self.expected(response)
        if self.max_bytes is not None and size is not None and size > self.max_bytes:
            raise ArtifactTooLargeError(self.artifact_id, max_bytes=self.max_bytes, size=size)

    def counted(self, received: int, response: httpx.Response) -> None:
        """`received` bytes so far: refuse at once a body longer than expected or allowed."""
        if self.max_bytes is not None and received > self.max_bytes:
            raise ArtifactTooLargeError(self.artifact_id, max_bytes=self.max_bytes, size=None)
        want = self.expected(response)
        if want is not None and received > want:
            raise self._wrong_size(f"at least {received}", want, response)

    def ended(self, received: int, response: httpx.Response) -> None:
        """The body ended after `received` bytes: refuse a short one."""
        want = self.expected(response)
        if want is not None and received != want:
            raise self._wrong_size(str(received), want, response)

    def _wrong_size(
        self, got: str, want: int, response: httpx.Response
    ) -> APIResponseValidationError:
        return APIResponseValidationError(
            f"artifact {self.artifact_id}: got {got} bytes, expected {want}", response=response
        )


class ArtifactBody(ByteStream):
    """An artifact's content as a stream of bytes (`zof.artifacts.open`).

    ```python
    async with zof.artifacts.open(artifact) as body:
        async for chunk in body:
            ...
    ```

    Opening sends the request, with the call's retries until the answer's
    headers arrive; its type is checked then. The size is checked as the
    chunks come and when the body ends: a wrong size raises
    `APIResponseValidationError` from the iteration (after the chunks before
    it were handed out: a consumer that must not keep a partial body should
    discard what it has on an error, as `download` does).

    Attributes:
        received: Bytes handed out so far.
    """

    def __init__(
        self, pipeline: Pipeline, request: httpx.Request, call: Call, *, check: ContentCheck
    ) -> None:
        super().__init__(pipeline, request, call)
        self._check = check
        self._failed: ZofError | None = None
        self.received = 0

    async def open(self) -> httpx.Response:
        """Send the request (with retries until the headers arrive); check the headers."""
        if self._failed is not None:
            raise self._failed
        fresh = self.response is None
        response = await super().open()
        if fresh:
            try:
                self._check.opened(response)
            except ZofError as exc:
                await self._fail(exc)
        return response

    async def read(self) -> bytes:
        """The rest of the body, at once (checked as `async for` is)."""
        return b"".join([chunk async for chunk in self])

    async def __anext__(self) -> bytes:
        try:
            return await super().__anext__()
        except ZofError as exc:
            if exc is not self._failed:
                await self._fail(exc)  # raises it, scrubbed
            raise

    def _iterate(self, response: httpx.Response) -> AsyncGenerator[bytes, None]:
        return self._checked(super()._iterate(response), response)

    async def _checked(
        self, chunks: AsyncGenerator[bytes, None], response: httpx.Response
    ) -> AsyncGenerator[bytes, None]:
        try:
            async for chunk in chunks:
                self.received += len(chunk)
                self._check.counted(self.received, response)
                yield chunk
        finally:
            await chunks.aclose()
        self._check.ended(self.received, response)

    async def _fail(self, exc: ZofError) -> None:
        """Close the answer; this error, scrubbed, is the stream's from now on."""
        self._pipeline.redactor.exception(exc)
        self._failed = exc
        await self.aclose()
        raise self._failed from None
