"""Background worker (arq on Redis): tasks call the same domain code as the routes.

- ``sms_deliver(message_id)``: one delivery attempt of one outbox message, queued right after the
  change commits (job id ``sms:<id>:<attempts>``, so the same attempt is never queued twice).
- ``sms_sweep`` (every 10 s, and at start): queues a task for every message that is due: retries
  after backoff, enqueues lost to a Redis restart, and messages of a worker that died mid-send.

Run it with ``python -m jobs worker`` next to the API when Redis is a server (``REDIS_URL``); with
the embedded Redis the API process runs it itself (``python -m backend serve --worker``).
"""
