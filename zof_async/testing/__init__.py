"""`zof_async.testing`: a stateful emulator of the Zof API for tests and demos.

```python
from zof_async.testing import Emulator

emulator = Emulator()                       # seeded data, ManualClock
async with emulator.client() as http:       # in-process, no sockets
    r = await http.post("/runs", json={...})
emulator.advance(60)                        # runs progress, no sleeping
async with emulator.serve() as base_url:    # real HTTP on 127.0.0.1
    ...
```

The pytest plugin (installed with the package) provides the `zof_emulator`
fixture; see `zof_async.testing.pytest_plugin`.
"""

from zof_async._http._retry import is_testing, set_testing

from ._clock import Clock, LoopClock, ManualClock, SystemClock
from ._emulator import Emulator
from ._faults import Fault, Faults, exponential_latency
from ._lifecycle import RunScript
from ._proxy import FaultProxy, Toxic
from ._seed import SeedKeys
from ._stats import RequestRecord, Stats
from ._webhooks import WebhookAttempt, WebhookFaults

__all__ = [
    "Clock",
    "Emulator",
    "Fault",
    "FaultProxy",
    "Faults",
    "LoopClock",
    "ManualClock",
    "RequestRecord",
    "RunScript",
    "SeedKeys",
    "Stats",
    "SystemClock",
    "Toxic",
    "WebhookAttempt",
    "WebhookFaults",
    "exponential_latency",
    "is_testing",
    "set_testing",
]
