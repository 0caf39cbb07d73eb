"""Reading at scale: planning a listing into time slices (`_partition`), and the
driver's plan and workers' tasks behind `zof_async.ray` (`_ray_plan`, `_ray_tasks`)."""
