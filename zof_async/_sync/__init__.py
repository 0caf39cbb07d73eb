"""`Zof`: the synchronous client, the async one run on an event loop of its own.

One `Zof` owns one `AsyncZof` entered (`async with`) on an asyncio loop in a
daemon thread (`_runner`), started on first use and stopped by `close()`.
Each sync method is derived from its async original (`_derive`), so the
arguments, defaults, errors and types are the async client's; async
iterators are handed to the caller's thread in batches (`_pagers`,
`_pump`). Nothing below this package imports it.
"""
