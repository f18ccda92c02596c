"""Background worker (arq on Redis): not built yet.

SMS delivery with retries, roll-up refresh, exports and the yearly archive arrive with their
issues. Until then the development SMS channel delivers right after commit, and pending outbox
rows are delivered when the server starts (backend.core.sms.deliver_pending).
"""
