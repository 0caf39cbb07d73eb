"""The implementation of `zof_async.dlt`: a dlt source over one `AsyncZof` per run."""
