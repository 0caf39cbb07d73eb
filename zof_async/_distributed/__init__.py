"""Reading at scale: planning a listing into slices (`_partition`, `_balance`, `_probe`,
`_read_plan`: no engine), and the engines over them: Ray (`_ray_plan`, `_ray_tasks`,
`_ray_read`) and Dask (`_dask_read`)."""
