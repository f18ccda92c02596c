"""What the conversation is about, per session, in Redis: the last unit shown and the last table.

"更多" / "下一页" continue the last table; "这个村的汇总" refers to the last unit shown.
"""

from __future__ import annotations

import json
from typing import Any

from backend.core import runtime


class ChatContext:
    def __init__(self, session_key: str) -> None:
        self._key = f"chat:{session_key}"

    async def _ttl(self) -> int:
        return runtime.get().settings.session_idle_seconds

    async def remember_unit(self, unit_id: int, name: str) -> None:
        redis = runtime.get().redis
        await redis.hset(self._key, mapping={"unit_id": str(unit_id), "unit_name": name})
        await redis.expire(self._key, await self._ttl())

    async def last_unit(self) -> tuple[int, str] | None:
        stored = await runtime.get().redis.hmget(self._key, ["unit_id", "unit_name"])
        if not stored[0]:
            return None
        return int(stored[0]), stored[1] or ""

    async def remember_page(self, intent: str, params: dict[str, Any], next_cursor: Any) -> None:
        """The table just shown and where its next page starts (None: there is no next page)."""
        redis = runtime.get().redis
        page = {"intent": intent, "params": params, "cursor": next_cursor}
        await redis.hset(self._key, "page", json.dumps(page, ensure_ascii=False))
        await redis.expire(self._key, await self._ttl())

    async def next_page(self) -> tuple[str, dict[str, Any]] | None:
        """The intent and parameters of the next page of the last table, if there is one."""
        raw = await runtime.get().redis.hget(self._key, "page")
        if not raw:
            return None
        page = json.loads(raw)
        if page["cursor"] is None:
            return None
        return page["intent"], {**page["params"], "cursor": page["cursor"]}
