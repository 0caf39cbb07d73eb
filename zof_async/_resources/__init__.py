"""The API's resources as methods: `zof.runs`, `zof.results`, `zof.artifacts`.

Each method checks its arguments (`_arguments`), encodes the path
(`_paths`), and hands one request to the HTTP layer's `Pipeline`; listings,
fan-outs, waits and bodies are handed to the streaming layer.
"""
