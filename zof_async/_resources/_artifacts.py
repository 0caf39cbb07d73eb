"""`zof.artifacts`: an artifact's content as a file, as bytes, as a stream, or many files."""

from __future__ import annotations

import errno
import functools
import os
import stat
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable
from contextlib import aclosing
from pathlib import Path, PurePosixPath

import anyio
import httpx

from .. import _numbers as numbers
from .._exceptions import APIResponseValidationError, APITimeoutError, ZofError
from .._http._pipeline import Pipeline
from .._http._settings import Call
from .._http._traffic import Meter
from .._models import Artifact, ArtifactDownload
from .._streaming._artifact_body import ArtifactBody, ContentCheck
from .._streaming._background import Background
from .._streaming._fanout import FanOut
from .._streaming._streams import TransportChunks, write_atomically
from ._options import RequestOptions, Unpack
from ._paths import path
from ._raw import raw, raw_fan_out, raw_stream
from ._resource import Resource

READ_LIMIT = 64 * 1024 * 1024  # `read`'s default `max_bytes`: 64 MiB
_Fetch = Callable[[Artifact], Awaitable[tuple[int, bool]]]


class Artifacts(Resource):
    """Operations on artifacts (`/artifacts`): their content.

    Every method takes the per-call `RequestOptions` as keywords, and checks
    the same things (see `ContentCheck`): the answer's type, the size, and
    for `read` a `max_bytes`.

    Attributes:
        with_raw_response: Each method, returning its answer's metadata too
            (`RawResponse`): `download` and `read` return one; `open` gives
            one on entering its block; `download_many` gives an `Outcome`
            per artifact whose value is one.
    """

    def __init__(self, pipeline: Pipeline, *, background: Background) -> None:
        super().__init__(pipeline)
        self._background = background
        self.with_raw_response = ArtifactsWithRawResponse(self)

    async def download(
        self,
        artifact: Artifact | str,
        destination: str | os.PathLike[str],
        **options: Unpack[RequestOptions],
    ) -> int:
        """Stream an artifact's content to `destination`, atomically; return its size.

        Missing parent folders of `destination` are created. The content goes
        to a temporary file next to it, renamed into place once complete; an
        `OSError` names `destination`, never that temporary file.

        The size is checked against the artifact's `size_bytes` (or the
        response's `Content-Length` when only an id is given), and the type
        against its `content_type`; a wrong one is an error and leaves no
        file. A connection that breaks mid-body is an attempt that failed:
        retried from the start, with the same retries, budget and counters
        as any call. The per-call `timeout` bounds the wait for the answer's
        headers, not the transfer.

        The content is fetched from `/artifacts/{id}/content` under the
        client's own base URL, so the API key is never sent elsewhere.
        """
        return await self._download(_check(artifact), destination, self._resolve(options))

    async def read(
        self,
        artifact: Artifact | str,
        *,
        max_bytes: int | None = READ_LIMIT,
        **options: Unpack[RequestOptions],
    ) -> bytes:
        """An artifact's content, as bytes in memory (for small ones).

        Checked as `download` checks it, and retried as a whole in the same
        way when the connection breaks mid-body.

        Args:
            artifact: The artifact, or its id.
            max_bytes: The most bytes to hold (default 64 MiB; `None`: no
                limit). An artifact declared larger is refused before any
                request, an answer whose `Content-Length` is larger before
                its body is read, and a body without one as soon as the
                bytes counted pass the limit.
            **options: Per-call `RequestOptions`.

        Raises:
            ArtifactTooLargeError: The content is larger than `max_bytes`.
            APIResponseValidationError: Not the artifact's type or size.
        """
        if max_bytes is not None and numbers.integer("max_bytes", max_bytes) < 0:
            raise ValueError("max_bytes must be None or an integer, 0 or more")
        check = _check(artifact, max_bytes=max_bytes)
        check.before_sending()
        call = self._resolve(options)

        async def collect(response: httpx.Response) -> bytes:
            check.opened(response)
            parts: list[bytes] = []
            received = 0
            async with aclosing(TransportChunks(response)) as chunks:
                async for chunk in chunks:
                    received += len(chunk)
                    check.counted(received, response)
                    parts.append(chunk)
            check.ended(received, response)
            return b"".join(parts)

        request = self._content_request(check, call)
        try:
            return await self._pipeline.consume(request, collect, call, body_deadline=False)
        except APIResponseValidationError as exc:
            raise self._pipeline.redactor.exception(exc) from None

    def open(self, artifact: Artifact | str, **options: Unpack[RequestOptions]) -> ArtifactBody:
        """An artifact's content as a stream of bytes, to pipe it on without holding it.

        ```python
        async with zof.artifacts.open(artifact) as body:
            async for chunk in body:
                ...
        ```

        Entering the block sends the request, retried as any call until the
        answer's headers arrive, and checks its type; `await body.read()`
        takes the rest at once. The size is checked as the chunks come and
        when they end (see `ArtifactBody`). The per-call `timeout` bounds the
        wait for the headers, not the reading.
        """
        call = self._resolve(options)
        check = _check(artifact)
        request = self._content_request(check, call)
        return ArtifactBody(self._pipeline, request, call, check=check)

    def download_many(
        self,
        artifacts: Iterable[Artifact] | AsyncIterable[Artifact],
        directory: str | os.PathLike[str],
        *,
        concurrency: int | None = None,
        ordered: bool = False,
        **options: Unpack[RequestOptions],
    ) -> FanOut[Artifact, tuple[int, bool], ArtifactDownload]:
        """Download many artifacts into `directory` concurrently; resumable.

        ```python
        async for done in zof.artifacts.download_many(zof.runs.artifacts(run.id), "out"):
            done.path, done.size, done.skipped, done.error
        ```

        Each artifact goes to `directory/{id}-{name}` (its name's last part:
        every file stays inside `directory`), written atomically as by
        `download`. A file there of the artifact's size is complete and not
        fetched again: an interrupted bulk download, run again, resumes.

        Args:
            artifacts: `Artifact`s (their size is what tells a complete file),
                from a list or any (async) iterable such as a pager; pulled
                lazily, so a million keep only about `concurrency` in memory.
            directory: Where the files go; created if missing.
            concurrency: Downloads at once, at most (default: the client's
                `max_connections`); lowered while the API answers 429.
            ordered: Hand out outcomes in input order instead of as they come.
            **options: Per-call `RequestOptions`, for each download.

        Returns:
            A `FanOut` of `ArtifactDownload`, one per artifact: an artifact's
            own error (a 404, a wrong size) is in its outcome; a 401/403, or a
            failing disk (an `OSError`), stops everything and is raised.
        """
        folder = Path(directory)

        def fetcher(call: Call) -> _Fetch:
            async def fetch(artifact: Artifact) -> tuple[int, bool]:
                target = folder / _file_name(artifact)
                if (size := await _complete(target, artifact)) is not None:
                    return size, True
                return await self._download(_check(artifact), target, call), False

            return fetch

        meter = Meter()
        return self._fan_out(
            fetcher, artifacts, call=self._resolve(options, meter=meter), meter=meter,
            concurrency=concurrency, ordered=ordered, outcome=functools.partial(_outcome, folder),
        )  # fmt: skip

    def _content_request(self, check: ContentCheck, call: Call) -> httpx.Request:
        route = path("/artifacts/{artifact_id}/content", artifact_id=check.artifact_id)
        return self._pipeline.build("GET", route, call=call, accept="*/*")

    async def _download(
        self, check: ContentCheck, destination: str | os.PathLike[str], call: Call
    ) -> int:
        """`download` with the call's options resolved: write, checked, atomically."""
        request = self._content_request(check, call)

        async def save(response: httpx.Response) -> int:
            check.opened(response)
            received = 0

            def count(size: int) -> None:
                nonlocal received
                received += size
                check.counted(received, response)

            async with aclosing(TransportChunks(response)) as chunks:
                return await write_atomically(
                    destination, chunks, on_chunk=count, check=lambda n: check.ended(n, response)
                )

        try:
            await anyio.Path(destination).parent.mkdir(parents=True, exist_ok=True)
            return await self._pipeline.consume(request, save, call, body_deadline=False)
        except APIResponseValidationError as exc:
            raise self._pipeline.redactor.exception(exc) from None
        except APITimeoutError:
            raise  # also an OSError (a TimeoutError), but not one of the disk's
        except OSError as exc:
            raise _naming(exc, destination) from None


def _check(artifact: Artifact | str, *, max_bytes: int | None = None) -> ContentCheck:
    """What the answer for `artifact` (an id: less is known) must be."""
    if isinstance(artifact, Artifact):
        return ContentCheck(
            artifact_id=artifact.id,
            size=artifact.size_bytes,
            content_type=artifact.content_type,
            max_bytes=max_bytes,
        )
    return ContentCheck(artifact_id=artifact, max_bytes=max_bytes)


def _outcome(
    folder: Path, artifact: Artifact, value: tuple[int, bool] | None, error: ZofError | None
) -> ArtifactDownload:
    """`download_many`'s outcome for one artifact."""
    size, skipped = value if value is not None else (None, False)
    return ArtifactDownload(
        artifact=artifact, path=folder / _file_name(artifact), size=size,
        skipped=skipped, error=error,
    )  # fmt: skip


async def _complete(target: Path, artifact: Artifact) -> int | None:
    """The size of `target` if it is already the artifact's complete file, else `None`."""
    try:
        found = await anyio.Path(target).stat()
    except FileNotFoundError:
        return None
    if stat.S_ISREG(found.st_mode) and found.st_size == artifact.size_bytes:
        return found.st_size
    return None


def _file_name(artifact: Artifact) -> str:
    """`{id}-{name}`, of the name's last part only: never outside the folder."""
    name = PurePosixPath(artifact.name.replace("\\", "/")).name
    return artifact.id if name in ("", ".", "..") else f"{artifact.id}-{name}"


def _naming(exc: OSError, destination: str | os.PathLike[str]) -> OSError:
    """The same kind of `OSError`, about `destination` (not the temporary file)."""
    code = exc.errno if exc.errno is not None else errno.EIO
    reason = exc.strerror or os.strerror(code)
    # OSError(errno, ...) picks the subclass: FileNotFoundError, PermissionError, ...
    return OSError(code, reason, os.fspath(Path(destination)))


class ArtifactsWithRawResponse:
    """`zof.artifacts.with_raw_response`: every method, with its answers' metadata."""

    def __init__(self, artifacts: Artifacts) -> None:
        self.download = raw(artifacts.download)
        self.read = raw(artifacts.read)
        self.open = raw_stream(artifacts.open)
        self.download_many = raw_fan_out(artifacts.download_many)
