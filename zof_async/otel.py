"""OpenTelemetry: one span per SDK call, its attempts as span events.

```python
import zof_async.otel

traced = zof_async.otel.instrument(zof)  # a with_options copy: same pool, same counters
run = await traced.runs.get(run_id)      # one span "zof GET /runs/{id}"
```

Needs `pip install 'zof-async[otel]'` (the OpenTelemetry API; configure a
`TracerProvider` from the SDK as usual). Built only on the client's public
hooks (`on_request`, `on_response`): nothing here reaches into the SDK.

Each call gets an `INTERNAL` span named after its method and route (ids
replaced by `{id}`, so names stay few), started when its first attempt
starts and ended when its last attempt ends. The span is the current span
while the call runs, so the HTTP client spans of an instrumented transport
(`HTTPXClientInstrumentor`) nest under it, one per attempt. Each attempt
adds an `attempt` event (`zof.attempt`, `http.response.status_code`,
`zof.request_id`, `zof.elapsed`, `error.type`); the span carries the last
status, request id and `zof.retries`, and ends with an error status if the
call failed. Like every hook's view, nothing here holds the API key.
"""

from ._otel import TracingHooks as TracingHooks, instrument as instrument
from ._public import name_public_objects as _name_public_objects

__all__ = ["TracingHooks", "instrument"]

_name_public_objects(globals(), __all__, "zof_async.otel")
