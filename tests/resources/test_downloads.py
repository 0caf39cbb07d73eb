"""`zof.artifacts.download` as the README uses it: into folders that may not exist yet."""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import httpx
import pytest

from zof_async import APIConnectionError, APITimeoutError, Artifact, AsyncZof, WaitTimeoutError
from zof_async.testing import Emulator, ManualClock, RunScript

pytestmark = pytest.mark.anyio


async def _screenshot(emulator: Emulator, zof: AsyncZof) -> Artifact:
    emulator.script_next_run(RunScript(queue_seconds=0, duration_seconds=1, outcome="failed"))
    run = await zof.runs.create(
        project_id="proj_abc", environment="staging", test_suite_id="suite_pr_smoke"
    )
    emulator.advance(5)
    async for artifact in zof.runs.artifacts(run.id):
        if artifact.kind == "screenshot":
            return artifact
    raise AssertionError("a failed run has a screenshot")


async def test_download_creates_missing_parent_folders(tmp_path: Path) -> None:
    """A download into folders that do not exist yet creates them and writes the file."""
    emulator = Emulator(data="minimal", clock=ManualClock())
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        shot = await _screenshot(emulator, zof)
        target = tmp_path / "out" / "deeper" / f"{shot.id}-{shot.name}"
        assert await zof.artifacts.download(shot, target) == shot.size_bytes
    assert target.read_bytes().startswith(b"\x89PNG")
    assert [p.name for p in target.parent.iterdir()] == [target.name]


async def test_download_errors_name_the_users_path_not_the_temporary_file(
    tmp_path: Path,
) -> None:
    """A failed final rename names the user's path; no temporary file is left."""
    emulator = Emulator(data="minimal", clock=ManualClock())
    target = tmp_path / "taken"
    target.mkdir()  # a folder where the file should go: the final rename fails
    (target / "x").write_text("keep me")
    async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
        shot = await _screenshot(emulator, zof)
        with pytest.raises(IsADirectoryError) as caught:
            await zof.artifacts.download(shot, target)
    assert caught.value.filename == os.fspath(target)
    assert ".part" not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken"]  # no temporary file left


async def test_download_into_a_read_only_folder_names_the_users_path(tmp_path: Path) -> None:
    """A read-only folder: PermissionError naming the user's path."""
    if os.geteuid() == 0:
        pytest.skip("root writes into read-only folders")
    emulator = Emulator(data="minimal", clock=ManualClock())
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
            shot = await _screenshot(emulator, zof)
            with pytest.raises(PermissionError) as caught:
                await zof.artifacts.download(shot, folder / "shot.png")
    finally:
        folder.chmod(0o700)
    assert caught.value.filename == os.fspath(folder / "shot.png")


async def test_a_download_that_times_out_is_an_api_timeout_not_a_disk_error(
    tmp_path: Path,
) -> None:
    """`APITimeoutError` is also a `TimeoutError` (an `OSError`): a download keeps it as it is.

    The download names the destination in the `OSError`s of the disk; a
    timeout of the request must not be mistaken for one of those.
    """

    async def never_answers(request: httpx.Request) -> httpx.Response:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    async with AsyncZof(api_key="zof_test", transport=httpx.MockTransport(never_answers)) as zof:
        with pytest.raises(APITimeoutError) as caught:
            await zof.artifacts.download("art_1", tmp_path / "out.txt", timeout=0.2, max_retries=0)
    assert isinstance(caught.value, TimeoutError)
    assert "out.txt" not in str(caught.value)
    assert not (tmp_path / "out.txt").exists()


def test_every_timeout_is_a_timeout_error() -> None:
    """`except TimeoutError` catches every timeout the SDK raises, as `except OSError` does."""
    assert issubclass(APITimeoutError, TimeoutError)
    assert issubclass(APITimeoutError, APIConnectionError)
    assert issubclass(WaitTimeoutError, TimeoutError)


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o002, 0o664), (0o077, 0o600)])
async def test_written_files_get_the_users_usual_mode(
    tmp_path: Path, umask: int, mode: int
) -> None:
    """An export and a download get the mode `open()` would give (0666 less the umask), not 0600."""
    emulator = Emulator(data="minimal", clock=ManualClock())
    previous = os.umask(umask)
    try:
        async with AsyncZof(api_key=emulator.keys.qa, transport=emulator.transport()) as zof:
            shot = await _screenshot(emulator, zof)
            await zof.artifacts.download(shot, tmp_path / "shot.png")
            await zof.results.export_to(tmp_path / "results.csv", format="csv")
    finally:
        os.umask(previous)
    for name in ("shot.png", "results.csv"):
        assert (tmp_path / name).stat().st_mode & 0o777 == mode, name
