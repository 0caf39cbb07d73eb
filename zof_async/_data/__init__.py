"""Listings as data: Arrow/pandas tables (`_arrow`), planning a listing into
time slices (`_partition`), and the tasks behind `zof_async.ray` (`_ray_tasks`)."""
