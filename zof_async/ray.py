"""Reading results and runs into Ray Data, many workers each on its own slice.

```python
import zof_async.ray

ds = zof_async.ray.read_results(created_after="2026-10-01T00:00:00Z",
                                created_before="2026-11-01T00:00:00Z", parallelism=8)
```

Needs `pip install 'zof-async[ray]'`. The query is split on the driver into
disjoint slices (see `_partition`); each Ray read task opens its own
`AsyncZof` and yields Arrow blocks with the fixed schema of `to_arrow`.

Credentials reach the workers with their tasks (pickled with the task, never
shown in a repr or a log): `api_key=`, else the driver's `ZOF_API_KEY`. A
driver without either leaves each worker to its own `ZOF_API_KEY` (set on the
nodes: Ray writes a `runtime_env`'s `env_vars` into its logs).

A query without `created_before` gets its upper bound fixed when the read is
planned: results created during the read belong to the next read, which
starts at this one's `ZofDatasource.created_before`.
"""

from ._distributed._ray_read import (
    ZofDatasource as ZofDatasource,
    bulk_artifacts as bulk_artifacts,
    read_results as read_results,
    read_runs as read_runs,
    results_datasource as results_datasource,
    runs_datasource as runs_datasource,
)
from ._public import name_public_objects as _name_public_objects

__all__ = [
    "ZofDatasource",
    "bulk_artifacts",
    "read_results",
    "read_runs",
    "results_datasource",
    "runs_datasource",
]

_name_public_objects(globals(), __all__, "zof_async.ray")
