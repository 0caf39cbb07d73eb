"""What requests are sent through: the transports a client builds, and their pool.

The lower floor of `_http`: it imports nothing of the request path above it
(pipeline, retry policy, settings), which sends through what is built here.
"""
