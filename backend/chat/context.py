"""What the conversation is about, in Redis: the last unit shown (and the last co-op, which "这个社"
means after a village shown since), the last table, the last person shown and the choices of the
last answer (backend.chat.choices).

A conversation is one session in one of its units: choosing another unit starts another, so "这个村"
never means a unit shown under the other scope, and going back resumes the first.

"更多" / "下一页" continue the last table, "上一页" and "第3页" go back to a page of it seen before (the
record of the table keeps where each page seen started); "这个村的汇总" refers to the last unit shown; "李家坪村呢"
asks the question of the last answer (the intent that remembered its unit, table or person: "asked")
again about another unit (backend.chat.follow_up). Whether the last answer showed the last unit, or
the last person, is kept too ("unit_shown"): a form asked for with no unit named is for that unit
only then, else for the actor's own unit (backend.accounts.chat.unit_meant); "联系电话" right after a
person's card is that person's (backend.coops.chat.coop_card).

A turn's writes are kept in memory (its own reads see them) and start on their way to Redis at
once, in the background, while the turn goes on with its reads and its reply; the writes of one
step of the turn go together, in one command with the expiry (a summary used to make four round
trips for its two writes). :meth:`ChatContext.save` waits until every write is in
(backend.chat.service calls it before the reply leaves), so the next turn always finds them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from backend.chat.params import whole_number
from backend.core import runtime
from backend.core.actor import Actor

# The fields and the renewed expiry in one command (EVAL, as the project's other scripts): one reply
# to read, where a MULTI of HSET and EXPIRE had four (81 -> 52 µs of the server's CPU a write).
_WRITE = "redis.call('hset', KEYS[1], unpack(ARGV, 2)) return redis.call('expire', KEYS[1], ARGV[1])"
# Pairs of keys (from, to): each conversation that exists moves, with its expiry (RENAME keeps it).
_MOVE = (
    "local moved = 0 for i = 1, #KEYS, 2 do if redis.call('exists', KEYS[i]) == 1 then "
    "redis.call('rename', KEYS[i], KEYS[i + 1]) moved = moved + 1 end end return moved"
)


# What the last answer showed: _SHOWN_UNIT the last unit, _SHOWN_PERSON the last person; "": neither
_UNIT_SHOWN = "unit_shown"
_SHOWN_UNIT = "1"
_SHOWN_PERSON = "person"
_COOP = "coop_id"  # the last co-op shown (one field: its name is read with its scope check)
_KEPT = "|"  # between an asked intent and the parameters a follow-up keeps (intent names hold none)


@dataclass(frozen=True)
class Table:
    """The last table a conversation showed: its intent and parameters, where its next page starts
    (``cursor``; None: the page shown is its last), where each page seen so far starts (``starts``,
    the first page's None) with the number of the one shown, and where the page after the furthest
    seen starts (``after``). ``starts`` None: the page shown was reached by an older table's button,
    and the pages before it are not known."""

    intent: str
    params: dict[str, Any]
    cursor: Any
    starts: list[Any] | None = None
    shown: int | None = None
    after: Any = None
    start: Any = None  # where the page on screen starts (its cursor; None: the first page)

    def page(self, start: Any) -> dict[str, Any]:
        """The parameters of the page that starts at ``start``."""
        return {**self.params, "cursor": start} if start is not None else dict(self.params)

    def showing(self, intent: str, params: dict[str, Any], start: Any, next_cursor: Any) -> Table:
        """The table after a turn showed the page of ``intent`` that starts at ``start``."""
        same = self.intent == intent and self.params == params and self.starts is not None and self.shown
        starts = list(self.starts or []) if same else [None]
        if start in starts:
            shown = starts.index(start) + 1
        elif same and self.after is not None and start == self.after:
            starts.append(start)  # the next page after the furthest seen
            shown = len(starts)
        else:  # reached by an older button: its pages before are not known
            return Table(intent, params, next_cursor, None, None, next_cursor)
        after = self.after if same else next_cursor
        if shown == len(starts) or starts[shown] != next_cursor:  # the furthest page, or the table changed
            starts, after = starts[:shown], next_cursor
        return Table(intent, params, next_cursor, starts, shown, after)


_NO_TABLE = Table("", {}, None)
# The choices of the last answer are the rows of its table page (the ``page`` record), not a list.
CHOICES_ON_PAGE = "page"


def _conversation(session_id: str, membership_id: int | None) -> str:
    return f"{session_id}:{membership_id}"


def _key(conversation: str) -> str:
    return f"chat:{conversation}"


async def move_conversations(old_session: str, new_session: str, membership_ids: Iterable[int]) -> int:
    """A session refreshed under a new token keeps its conversations, one per unit it may choose
    (``membership_ids``): "更多" and "这个村" go on where they were. Returns how many moved."""
    keys = [
        _key(_conversation(session, membership_id))
        for membership_id in membership_ids
        for session in (old_session, new_session)
    ]
    if not keys:
        return 0
    return int(await runtime.get().redis.eval(_MOVE, len(keys), *keys))


class ChatContext:
    """``held``: writes wait in memory until :meth:`release` (a turn started before its session was
    checked again; if the check fails, nothing it remembered reaches Redis)."""

    def __init__(self, conversation: str, *, held: bool = False) -> None:
        self._conversation = conversation
        self._key = _key(conversation)
        self._pending: dict[str, str] = {}  # what this turn remembered (its own reads see it)
        self._unsent: dict[str, str] = {}  # of that, what no write has taken yet
        self._sending: asyncio.Task[None] | None = None  # the newest write; it waits for those before it
        self._queued = False  # that write has not taken its fields yet: new ones go with it
        self._held = held
        self._asked: str | None = None  # the intent of this turn: what its answer is remembered as
        self._stored: dict[str, str | None] | None = None  # what one read found in Redis
        self._start: Any = None  # where the page this turn shows starts (its ``cursor``; None: the first)
        self._table: Table | None = None  # the table's record as this turn read it (None: not read)

    @classmethod
    def of(cls, actor: Actor, *, held: bool = False) -> ChatContext:
        """The context of the actor's conversation: its session, in the unit it chose."""
        return cls(_conversation(actor.session_id, actor.membership_id), held=held)

    def asking(self, intent: str, kept: dict[str, Any] | None = None) -> None:
        """This turn answers ``intent`` (narrowed by ``kept``, the parameters a follow-up keeps):
        what it remembers is remembered as that question's answer."""
        self._asked = f"{intent}{_KEPT}{json.dumps(kept, ensure_ascii=False)}" if kept else intent

    def _remember(self, fields: dict[str, str], *, asked: bool = True) -> None:
        if self._asked is not None and "choices" not in self._pending:
            # an answer's first write: the choices it shows (if any: offer) replace those shown before
            fields = {"choices": "", **fields}
        if asked and self._asked is not None:
            fields = {**fields, "asked": self._asked}
            if _UNIT_SHOWN not in fields and _UNIT_SHOWN not in self._pending:
                fields[_UNIT_SHOWN] = ""  # this answer showed no unit: the last one shown is older
        self._pending.update(fields)
        self._unsent.update(fields)
        self._send_unsent()

    def _send_unsent(self) -> None:
        if not self._queued and not self._held and self._unsent:
            self._queued = True
            self._sending = asyncio.ensure_future(self._send(self._sending))

    def release(self) -> None:
        """Let the writes of a held context go (what it remembered so far at once, the rest as it comes)."""
        self._held = False
        self._send_unsent()

    async def _send(self, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            await previous  # writes land in the order the turn made them
        self._queued = False
        fields, self._unsent = self._unsent, {}
        rt = runtime.get()
        # Kept as long as its session may live: the session stays alive on requests that write no
        # context (another page, a help turn), and an idle expiry here forgot the
        # conversation under a table still on screen after half an hour.
        args = [rt.settings.session_absolute_seconds, *(item for pair in fields.items() for item in pair)]
        await rt.redis.eval(_WRITE, 1, self._key, *args)

    async def remember_unit(self, unit_id: int, name: str, unit_type: str | None = None) -> None:
        """The unit this answer shows: "这个村", "这里" mean it from now on; a co-op (``unit_type``)
        is also the one "这个社" means until another co-op is shown (:meth:`last_coop`)."""
        fields = {"unit_id": str(unit_id), "unit_name": name, _UNIT_SHOWN: _SHOWN_UNIT}
        if unit_type == "coop":
            fields[_COOP] = str(unit_id)
        self._remember(fields)

    async def remember_question(self) -> None:
        """This turn's answer is about no unit (a person's card): a follow-up asks this question."""
        self._remember({})

    async def remember_person(self, account_id: int, name: str) -> None:
        """A person's card was shown: "她", "这个人" mean this person from now on; a follow-up asks
        this question (as :meth:`remember_question`)."""
        shown = {} if "unit_id" in self._pending else {_UNIT_SHOWN: _SHOWN_PERSON}
        self._remember({"person_id": str(account_id), "person_name": name, **shown})

    async def last_person(self) -> tuple[int, str] | None:
        """The person whose card was shown last, if any (read only by a turn that names one so)."""
        if "person_id" in self._pending:
            return int(self._pending["person_id"]), self._pending["person_name"]
        account_id, name = await runtime.get().redis.hmget(self._key, ["person_id", "person_name"])
        return (int(account_id), name or "") if account_id else None

    def offer(self, choices: str, *, rows_of_page: bool = False) -> None:
        """The choices this turn's answer shows (backend.chat.choices' record), with the turn's other
        fields when they have not left yet. ``rows_of_page``: they are the rows of the table page
        this turn remembered; when that page's write has already left (a summary remembers its page
        before its rows are read), its mark stands for them instead ("第二个" then runs the page
        again) rather than a second write."""
        if rows_of_page and self.choices_on_page() and "choices" not in self._unsent:
            return
        self._remember({"choices": choices}, asked=False)

    async def choices(self) -> str | None:
        """The record of the choices last shown (read only by a turn that chooses from them)."""
        if "choices" in self._pending:
            return self._pending["choices"] or None
        return await runtime.get().redis.hget(self._key, "choices") or None

    async def person_just_shown(self) -> int | None:
        """The person whose card the last answer that remembered anything showed; None: it showed
        no person's card (a unit, a list, a log since)."""
        if _UNIT_SHOWN in self._pending:
            return int(self._pending["person_id"]) if self._pending[_UNIT_SHOWN] == _SHOWN_PERSON else None
        shown, account_id = await runtime.get().redis.hmget(self._key, [_UNIT_SHOWN, "person_id"])
        return int(account_id) if shown == _SHOWN_PERSON and account_id else None

    async def last_coop(self) -> int | None:
        """The co-op shown last (a unit shown since may be none: "这个社" still means the co-op)."""
        if _COOP in self._pending:
            return int(self._pending[_COOP])
        coop_id = await runtime.get().redis.hget(self._key, _COOP)
        return int(coop_id) if coop_id else None

    async def last_unit(self) -> tuple[int, str] | None:
        if "unit_id" in self._pending:
            return int(self._pending["unit_id"]), self._pending["unit_name"]
        if self._stored is not None:
            unit_id, name = self._stored["unit_id"], self._stored["unit_name"]
        else:
            unit_id, name = await runtime.get().redis.hmget(self._key, ["unit_id", "unit_name"])
        if not unit_id:
            return None
        return int(unit_id), name or ""

    async def unit_just_shown(self) -> tuple[int, str] | None:
        """The last unit shown if the last answer that remembered anything showed it (a person's
        card, a list of people or log entries since: None). A form asked for with no unit named is
        for this unit, else for the actor's own: "新建账号" many turns after a co-op's card is not the
        co-op's. A conversation kept from before this mark counts its last unit as just shown."""
        if "unit_id" in self._pending:
            return int(self._pending["unit_id"]), self._pending["unit_name"]
        if _UNIT_SHOWN in self._pending:
            return None
        fields = ["unit_id", "unit_name", _UNIT_SHOWN]
        unit_id, name, shown = await runtime.get().redis.hmget(self._key, fields)
        if not unit_id or (shown is not None and shown != _SHOWN_UNIT):
            return None
        return int(unit_id), name or ""

    async def last_question(self) -> tuple[str | None, dict[str, Any], tuple[int, str] | None]:
        """The intent the last answer was remembered as with the parameters that narrowed it, and
        the last unit shown (one read; the turn's own :meth:`last_unit` then reads nothing more)."""
        fields = ["asked", "unit_id", "unit_name"]
        self._stored = dict(zip(fields, await runtime.get().redis.hmget(self._key, fields), strict=True))
        asked, _, kept = (self._stored["asked"] or "").partition(_KEPT)
        params = json.loads(kept) if kept else {}
        return asked or None, params if isinstance(params, dict) else {}, await self.last_unit()

    def showing_page(self, cursor: Any) -> None:
        """The page this turn shows starts at ``cursor`` (its parameter; None: the first page)."""
        self._start = whole_number(cursor) if cursor is not None else None  # as the handlers read it

    async def remember_page(self, intent: str, params: dict[str, Any], next_cursor: Any) -> None:
        """The table just shown and where its next page starts (None: there is no next page). Where
        each page seen so far started is kept with it, for "上一页" and "第3页": a page after the first
        reads the table's record (only such a turn: a first page, the usual turn, reads nothing)."""
        table = self._table
        if table is None and self._start is not None:
            table = await self.table()
        now = (table or _NO_TABLE).showing(intent, params, self._start, next_cursor)
        record = {
            "intent": now.intent,
            "params": now.params,
            "cursor": now.cursor,
            "starts": now.starts,
            "shown": now.shown,
            "after": now.after,
            "start": self._start,
        }
        # its rows are the choices "第二个" picks from (backend.chat.choices): marked so in the same
        # write, not recorded row by row (the summary's page is remembered before its rows are read,
        # and a record of them would have cost a second write)
        self._remember({"page": json.dumps(record, ensure_ascii=False), "choices": CHOICES_ON_PAGE})

    async def table(self) -> Table | None:
        """The last table shown, if any (read once a turn)."""
        raw = self._pending.get("page") or await runtime.get().redis.hget(self._key, "page")
        if not raw:
            return None
        page = json.loads(raw)
        starts = page.get("starts")
        shown = page.get("shown")
        after = page.get("after", page["cursor"])
        self._table = Table(page["intent"], page["params"], page["cursor"], starts, shown, after, page.get("start"))
        return self._table

    def choices_on_page(self) -> bool:
        """Are the choices this turn shows the rows of the table page it remembered?"""
        return self._pending.get("choices") == CHOICES_ON_PAGE

    def scratch(self) -> ChatContext:
        """A context of the same conversation whose writes never leave (an answer run again only to
        see its choices: it must not become what the conversation last showed)."""
        return ChatContext(self._conversation, held=True)

    async def save(self) -> None:
        """Wait until everything this turn remembered is in Redis (a failed write raises here); a
        context still held sends nothing."""
        while self._sending is not None:
            sending = self._sending
            try:
                await sending
            finally:
                if self._sending is sending:
                    self._sending = None
