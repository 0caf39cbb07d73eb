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

from zof_async._http._sleep import is_testing as is_testing, set_testing as set_testing
from zof_async._public import name_public_objects as _name_public_objects

from ._clock import (
    Clock as Clock,
    LoopClock as LoopClock,
    ManualClock as ManualClock,
    SystemClock as SystemClock,
)
from ._emulator import Emulator as Emulator
from ._faults import Fault as Fault, Faults as Faults, exponential_latency as exponential_latency
from ._lifecycle import RunScript as RunScript
from ._proxy import FaultProxy as FaultProxy, Toxic as Toxic
from ._seed import SeedKeys as SeedKeys
from ._stats import RequestRecord as RequestRecord, Stats as Stats
from ._webhooks import WebhookAttempt as WebhookAttempt, WebhookFaults as WebhookFaults

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

_name_public_objects(globals(), __all__, "zof_async.testing")
