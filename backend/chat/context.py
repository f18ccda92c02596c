"""What the conversation is about, per session, in Redis: the last unit shown and the last table.

"更多" / "下一页" continue the last table; "这个村的汇总" refers to the last unit shown.

A turn's writes are kept in memory (its own reads see them) and sent by :meth:`ChatContext.save`
in one transaction, with the expiry, once per turn (backend.chat.service); a summary used to make
four round trips to Redis for its two writes.
"""

from __future__ import annotations

import json
from typing import Any

from backend.core import runtime


class ChatContext:
    def __init__(self, session_key: str) -> None:
        self._key = f"chat:{session_key}"
        self._pending: dict[str, str] = {}

    async def remember_unit(self, unit_id: int, name: str) -> None:
        self._pending.update(unit_id=str(unit_id), unit_name=name)

    async def last_unit(self) -> tuple[int, str] | None:
        if "unit_id" in self._pending:
            return int(self._pending["unit_id"]), self._pending["unit_name"]
        stored = await runtime.get().redis.hmget(self._key, ["unit_id", "unit_name"])
        if not stored[0]:
            return None
        return int(stored[0]), stored[1] or ""

    async def remember_page(self, intent: str, params: dict[str, Any], next_cursor: Any) -> None:
        """The table just shown and where its next page starts (None: there is no next page)."""
        page = {"intent": intent, "params": params, "cursor": next_cursor}
        self._pending["page"] = json.dumps(page, ensure_ascii=False)

    async def next_page(self) -> tuple[str, dict[str, Any]] | None:
        """The intent and parameters of the next page of the last table, if there is one."""
        raw = self._pending.get("page") or await runtime.get().redis.hget(self._key, "page")
        if not raw:
            return None
        page = json.loads(raw)
        if page["cursor"] is None:
            return None
        return page["intent"], {**page["params"], "cursor": page["cursor"]}

    async def save(self) -> None:
        """Send what this turn remembered, and renew the expiry, in one round trip."""
        if not self._pending:
            return
        rt = runtime.get()
        async with rt.redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key, mapping=self._pending)
            pipe.expire(self._key, rt.settings.session_idle_seconds)
            await pipe.execute()
        self._pending = {}
