"""The Zof API as a dlt source: runs, results and artifacts, loaded incrementally.

```python
import dlt
import zof_async.dlt

pipeline = dlt.pipeline("zof", destination="duckdb", dataset_name="zof")
pipeline.run(zof_async.dlt.zof_source(created_after="2026-10-01T00:00:00Z"))
```

Needs `pip install 'zof-async[dlt]'`. Three tables, each merged on `id`:
`runs` and `results` (incremental on `created_at`: each load asks the API
for what was created at or after the newest row of the last one, and dlt
drops the rows it had already loaded at that instant), and `artifacts`, one
row per artifact of each result loaded (its `result_id` the foreign key).
Rows are the API's JSON (`model.to_dict()`): fields this SDK does not know
become new columns. Errors reach you as dlt's `PipelineStepFailed`, whose
`__cause__` chain holds the SDK's `ZofError` (see docs/guides/dlt.md).
"""

from ._dlt._source import zof_source as zof_source
from ._public import name_public_objects as _name_public_objects

__all__ = ["zof_source"]

_name_public_objects(globals(), __all__, "zof_async.dlt")
