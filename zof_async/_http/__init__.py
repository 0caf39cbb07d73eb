"""The HTTP layer: how one request reaches the API and comes back.

`Pipeline` sends every request of every resource: it builds the request once,
then runs the one retry loop (`_retry.decide` says what follows a failed
attempt), waiting at the client-wide 429 gate (`_gate`), spending the retry
budget (`_budget`) and taking a connection slot (`_pool`) for each attempt.
Transports are built below it, in `_transport/` (which imports nothing of the
request path);
secrets are scrubbed from whatever leaves this layer (the client's `Redactor`, `.._redact`).
"""
