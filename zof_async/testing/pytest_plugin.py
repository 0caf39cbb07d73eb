"""pytest fixtures for testing code that uses Zof, registered automatically.

```python
@pytest.mark.anyio  # or @pytest.mark.asyncio with pytest-asyncio
async def test_gate(zof_emulator, zof_no_backoff):
    async with AsyncZof(api_key=zof_emulator.keys.qa, transport=zof_emulator.transport()) as zof:
        ...

@pytest.mark.zof_emulator(data="minimal", seed=7)
def test_small(zof_emulator): ...
```
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from zof_async._http._sleep import set_testing

from ._clock import ManualClock
from ._emulator import Emulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "zof_emulator(**options): options for the zof_emulator fixture (data, seed, poll_hint, ...)",
    )


@pytest.fixture
def zof_emulator(request: pytest.FixtureRequest) -> Emulator:
    """A fresh emulator on a `ManualClock`: runs progress only with `advance()`."""
    marker = request.node.get_closest_marker("zof_emulator")
    options = dict(marker.kwargs) if marker else {}
    options.setdefault("clock", ManualClock())
    return Emulator(**options)


@pytest.fixture
def zof_no_backoff() -> Iterator[None]:
    """Retries happen as usual but without sleeping (backoff and Retry-After)."""
    with set_testing(True):
        yield
