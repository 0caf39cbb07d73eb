"""`zof.artifacts`: downloading artifact content."""

from __future__ import annotations

import errno
import os
from contextlib import aclosing
from pathlib import Path

import anyio
import httpx

from .._exceptions import APIResponseValidationError, APITimeoutError
from .._http._pipeline import Pipeline
from .._models import Artifact
from .._streaming._streams import TransportChunks, write_atomically
from ._options import RequestOptions, Unpack
from ._paths import path
from ._raw import raw
from ._resource import Resource


class Artifacts(Resource):
    """Operations on artifacts (`/artifacts`).

    Attributes:
        with_raw_response: `download` returning a `RawResponse` (the size, and
            the answer's status, headers, request id, retries and elapsed time).
    """

    def __init__(self, pipeline: Pipeline) -> None:
        super().__init__(pipeline)
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
        response's `Content-Length` when only an id is given); a short or long
        body is an error and leaves no file. A connection that breaks mid-body
        is an attempt that failed: retried from the start, with the same
        retries, budget and counters as any call. The per-call `timeout`
        bounds the wait for the answer's headers, not the transfer.

        The content is fetched from `/artifacts/{id}/content` under the
        client's own base URL, so the API key is never sent elsewhere.
        """
        call = self._resolve(options)
        artifact_id = artifact.id if isinstance(artifact, Artifact) else artifact
        expected = artifact.size_bytes if isinstance(artifact, Artifact) else None
        route = path("/artifacts/{artifact_id}/content", artifact_id=artifact_id)
        request = self._pipeline.build("GET", route, call=call, accept="*/*")

        async def save(response: httpx.Response) -> int:
            def check(size: int) -> None:
                want = expected
                if want is None:
                    length = response.headers.get("content-length")
                    want = int(length) if length and length.isdigit() else None
                if want is not None and size != want:
                    raise APIResponseValidationError(
                        f"artifact {artifact_id}: got {size} bytes, expected {want}",
                        response=response,
                    )

            async with aclosing(TransportChunks(response)) as chunks:
                return await write_atomically(destination, chunks, check=check)

        try:
            await anyio.Path(destination).parent.mkdir(parents=True, exist_ok=True)
            return await self._pipeline.consume(request, save, call, body_deadline=False)
        except APIResponseValidationError as exc:
            raise self._pipeline.redactor.exception(exc) from None
        except APITimeoutError:
            raise  # also an OSError (a TimeoutError), but not one of the disk's
        except OSError as exc:
            raise _naming(exc, destination) from None


def _naming(exc: OSError, destination: str | os.PathLike[str]) -> OSError:
    """The same kind of `OSError`, about `destination` (not the temporary file)."""
    code = exc.errno if exc.errno is not None else errno.EIO
    reason = exc.strerror or os.strerror(code)
    # OSError(errno, ...) picks the subclass: FileNotFoundError, PermissionError, ...
    return OSError(code, reason, os.fspath(Path(destination)))


class ArtifactsWithRawResponse:
    """`zof.artifacts.with_raw_response`: `download` returning a `RawResponse`."""

    def __init__(self, artifacts: Artifacts) -> None:
        self.download = raw(artifacts.download)
