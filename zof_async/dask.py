"""Reading results and runs into Dask DataFrames, one partition per slice of the listing.

```python
import zof_async.dask

df = zof_async.dask.read_results(created_after="2026-10-01T00:00:00Z",
                                 created_before="2026-11-01T00:00:00Z", parallelism=8)
```

Needs `pip install 'zof-async[dask]'`. The query is planned on the client
into partitions of about equal rows (`_distributed._balance`, the same
planner as `zof_async.ray`); each Dask task opens its own `AsyncZof` and
reads its slices into a pandas frame with the fixed schema of `to_pandas`.

Credentials as for `zof_async.ray`: `api_key=`, else `ZOF_API_KEY`, carried
with the tasks and never shown in a repr or a log.
"""

from ._distributed._dask_read import read_results as read_results, read_runs as read_runs
from ._public import name_public_objects as _name_public_objects

__all__ = ["read_results", "read_runs"]

_name_public_objects(globals(), __all__, "zof_async.dask")
