"""Work that spans many requests or one long body.

Cursor pagination (`_pagination`), the concurrent fan-out (`_fanout`),
waiting for runs (`_waiting`), streamed bodies and atomic files
(`_streams`), the export formats (`_export_formats`), Arrow tables
(`_arrow`), and the task group
all background work of a client runs in (`_background`).
"""
