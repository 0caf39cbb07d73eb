"""`zof.artifacts`: downloading artifact content."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import anyio

from .._exceptions import APIConnectionError, APIResponseValidationError, ClientClosedError
from .._http._pipeline import Pipeline
from .._http._retry import is_testing, retry_delay
from .._models import Artifact
from .._streaming._streams import ByteStream, write_atomically
from ._paths import path


class Artifacts:
    """Operations on artifacts (`/artifacts`)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    async def download(self, artifact: Artifact | str, destination: str | os.PathLike[str]) -> int:
        """Stream an artifact's content to `destination`, atomically; return its size.

        Missing parent folders of `destination` are created. The content goes
        to a temporary file next to it, renamed into place once complete; an
        `OSError` names `destination`, never that temporary file.

        The size is checked against the artifact's `size_bytes` (or the
        response's `Content-Length` when only an id is given); a short or long
        body is an error and leaves no file. A connection that breaks mid-body
        is retried from the start, like any other retryable failure.

        The content is fetched from `/artifacts/{id}/content` under the
        client's own base URL, so the API key is never sent elsewhere.
        """
        artifact_id = artifact.id if isinstance(artifact, Artifact) else artifact
        expected = artifact.size_bytes if isinstance(artifact, Artifact) else None
        route = path("/artifacts/{artifact_id}/content", artifact_id=artifact_id)
        pipeline = self._pipeline
        policy = pipeline.settings.retry
        attempt = 0
        await anyio.Path(destination).parent.mkdir(parents=True, exist_ok=True)
        while True:
            stream = ByteStream(pipeline, pipeline.build("GET", route, accept="*/*"))

            def check(size: int, stream: ByteStream = stream) -> None:
                want = expected
                if want is None and stream.response is not None:
                    length = stream.response.headers.get("content-length")
                    want = int(length) if length and length.isdigit() else None
                if want is not None and size != want:
                    assert stream.response is not None
                    raise APIResponseValidationError(
                        f"artifact {artifact_id}: got {size} bytes, expected {want}",
                        response=stream.response,
                    )

            try:
                return await write_atomically(destination, stream, check=check)
            except ClientClosedError:
                raise
            except OSError as exc:
                raise _naming(exc, destination) from None
            except APIConnectionError:
                if attempt >= policy.max_retries:
                    raise
            delay = retry_delay(policy, attempt, None, pipeline.shared.rng)
            attempt += 1
            if not is_testing():
                await anyio.sleep(delay)


def _naming(exc: OSError, destination: str | os.PathLike[str]) -> OSError:
    """The same kind of `OSError`, about `destination` (not the temporary file)."""
    code = exc.errno if exc.errno is not None else errno.EIO
    reason = exc.strerror or os.strerror(code)
    # OSError(errno, ...) picks the subclass: FileNotFoundError, PermissionError, ...
    return OSError(code, reason, os.fspath(Path(destination)))
