"""Receiving webhooks: verifying signatures (`_verify`), the typed events
(`_events`), and an inbox/ASGI receiver that waits can listen to (`_inbox`)."""
