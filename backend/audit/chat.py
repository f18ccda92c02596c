"""Chat intent over the audit log, for admins (``audit.view``): "操作记录", "登录失败记录",
"最近有人登录失败吗", "王建国的操作记录"; the newest entries in scope first, "更多" for older ones. A day
typed alone right after such a list ("昨天", "前天的呢", "本月") is that list of those days; "今天有几个人
登录" counts the day's successful logins.

The same entries as ``GET /api/audit`` (backend.audit.queries), shown in words: when (China time),
what, who, and whether it worked. Whoever acted is named only when the reader may see that account
(one of its units is in scope); someone from above is "上级单位人员", anyone else "辖区外人员".
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from tortoise.functions import Count

from backend.accounts.chat import login_state_line, lookup_name, resolve_person
from backend.accounts.models import Account, Membership
from backend.accounts.queries import above_level, get_account, memberships_in_scope
from backend.audit import messages as msg
from backend.audit.queries import china_days, entries_query, list_entries
from backend.chat import lookup, parser
from backend.chat.days import DAYS, days_named, say_days
from backend.chat.parser import ASK, ASK_WORD
from backend.chat.protocol import Action, ChatReply, NoticeBlock, Suggestion, TableBlock
from backend.chat.references import is_reference
from backend.chat.registry import Turn, intent
from backend.chat.service import suggestions
from backend.core import runtime
from backend.core.actor import Actor
from backend.core.audit import AuditEntry
from backend.core.clock import CHINA_TIME
from backend.core.errors import AppError
from backend.core.roles import allows
from backend.units.chat import int_param, resolve_unit
from backend.units.models import Unit
from backend.units.queries import get_unit, units_named

PAGE_SIZE = 10
LOGIN = "auth.login"
FAILURE = "failure"
SUCCESS = "success"
PERMISSION = "audit.view"
# What a list of the log is about, kept when a day typed alone narrows it (its days are replaced).
_SUBJECT = ("unit_id", "account_id", "action", "outcome")
_RECORDS = r"(?:操作记录|操作日志|审计记录|审计日志|日志|记录)"
_WHEN = rf"(?:最近的?|(?P<when>{DAYS})的?|近期的?)?"
_SINCE = rf"(?:最近|(?P<when>{DAYS})|近期)?"  # after a name: "王建国最近的操作记录", "王建国昨天的..."
_WHAT = rf"(?:操作记录|操作日志|(?P<login>登录)(?P<failed>失败)?{_RECORDS})"  # after "王建国的"
_ME = ("我", "我自己", "本人", "自己")  # "我的操作记录": the reader's own


@intent(
    "audit.recent",
    patterns=(
        ASK_WORD + rf"{_WHEN}(?:操作记录|操作日志|审计记录|审计日志)$",
        ASK_WORD + rf"{_WHEN}(?P<login>登录)(?P<failed>失败)?的?{_RECORDS}$",
        ASK_WORD + rf"{_WHEN}(?P<login>登录)(?P<failed>失败)的?(?:账号|人|有哪些|有谁|情况)?$",  # "最近登录失败的"
        ASK_WORD + rf"{_WHEN}(?:有(?:人|谁)|谁)(?P<login>登录)(?P<failed>失败)?(?:了|过)?(?:吗)?$",
        # "侯国梅最近登录过吗", "侯国梅上次登录是什么时候": the person's logins, newest first
        ASK + rf"(?P<name>.{{1,20}}?){_SINCE}(?:有没有)?(?P<login>登录)(?:过|了)?(?:吗|没有|没)$",
        # "侯国梅做了什么操作", "王建国昨天干了什么"
        # ("…做什么" asks what a co-op does: not the log)
        ASK
        + rf"(?P<name>.{{1,20}}?){_SINCE}(?:都)?"
        + r"(?:(?:做|干)(?:了|过)些?(?:什么|哪些|啥)(?:操作|事)?|(?:做|干)(?:什么|哪些|啥)操作)$",
        ASK
        + r"(?P<name>.{1,20}?)(?:上次|上一次|最后一次|最近一次)(?P<login>登录)(?:是)?(?:什么时候|哪天|几点|的时间)$",
        # the days may come first: "昨天王建国的操作记录"
        ASK + rf"(?:(?P<when_first>{DAYS})的?)?(?P<name>.{{1,20}}?){_SINCE}的{_WHAT}$",
    ),
    permission=PERMISSION,
    priority=30,  # before the person's card ("王建国的...") and the lookup
    pageable=True,
    subject="name",
)
async def recent(turn: Turn) -> ChatReply:
    """The newest entries in scope, of logins (failed ones), of one person or of one unit (and what
    is below it) if asked, of the days asked for ("昨天", "上周", "12月1日")."""
    params: dict[str, Any] = {}
    name = ""
    if turn.params.get("account_id") is None and turn.params.get("name") in _ME:
        turn = replace(turn, params={**turn.params, "account_id": turn.actor.account_id, "name": None})
    unit = await _unit_asked(turn)
    if unit is not None:
        params["unit_id"] = unit.id
        name = unit.name
    elif turn.params.get("account_id") is not None or turn.params.get("name"):
        person = await resolve_person(turn, "audit.recent")
        if isinstance(person, ChatReply):
            return person
        account = await get_account(turn.actor, person)  # a button's id may name anyone: in scope only
        params["account_id"] = account.id
        name = account.name
    if turn.params.get("login") or turn.params.get("action") == LOGIN:
        params["action"] = LOGIN
    if turn.params.get("failed") or turn.params.get("outcome") == FAILURE:
        params["outcome"] = FAILURE
    days = _days(turn)
    if days is not None:
        params["from_day"], params["to_day"] = (day.isoformat() for day in days)
    cursor = int_param(turn.params, "cursor")
    since, before = china_days(*days) if days is not None else (None, None)
    query = entries_query(
        turn.actor,
        action=params.get("action"),
        account_id=params.get("account_id"),
        outcome=params.get("outcome"),
        within=unit.path if unit is not None else None,
        since=since,
        before=before,
    )
    entries, next_cursor = await list_entries(query, cursor=cursor, limit=PAGE_SIZE)
    await turn.context.remember_page("audit.recent", params, next_cursor)
    # One person's logins ("熊春最近登录过吗"): first a line on whether they get in at all (rows of
    # failures say neither the last login nor the lock).
    lead: list[NoticeBlock] = []
    if "account_id" in params and params.get("action") == LOGIN and cursor is None:
        lead = [NoticeBlock(text=await login_state_line(turn.actor, params["account_id"]))]
    if not entries:
        if lead and days is None:  # no login entry of any day: the line says it ("熊春还从未登录过。")
            return ChatReply(blocks=[*lead], suggestions=suggestions())
        text = msg.CHAT_NO_MORE if cursor is not None else msg.CHAT_NONE.format(title=_title(params, name))
        return ChatReply(blocks=[NoticeBlock(text=text), *lead], suggestions=suggestions())
    names = await _names(turn.actor, entries)
    table = TableBlock(
        title=_title(params, name),
        columns=msg.CHAT_COLUMNS,
        rows=[_row(entry, names) for entry in entries],
        more=Action(label=msg.BUTTON_MORE, intent="audit.recent", params={**params, "cursor": next_cursor})
        if next_cursor is not None
        else None,
    )
    return ChatReply(blocks=[*lead, table], suggestions=suggestions())


@intent("audit.days", patterns=(rf"^(?:那么?)?(?P<when>{DAYS})的?$",), priority=30)
async def days_alone(turn: Turn) -> ChatReply:
    """A day or a span typed alone ("昨天", "前天的呢", "本月", "12月1日"): right after a list of the
    log, that list of those days (its person, unit and logins kept, as "更多" keeps them); after
    anything else, the name lookup it always was."""
    when = str(turn.params.get("when") or "")
    asked, _, _ = await turn.context.last_question()
    table = await turn.context.table() if asked == "audit.recent" else None
    if table is None or table.intent != "audit.recent" or not allows(turn.actor.role, PERMISSION):
        turn.context.asking(parser.LOOKUP_NAME)
        return await lookup_name(replace(turn, params={"name": when}))
    kept = {key: value for key, value in table.params.items() if key in _SUBJECT}
    turn.context.asking("audit.recent")  # a day after this one narrows the same list
    return await recent(replace(turn, params={**kept, "when": when}))


_PEOPLE = r"(?:一共|总共|共)?有?(?:几个|几|多少个?)人"
_LOGGED_IN = r"(?:登录|上线)(?:了|过)?"


@intent(
    "audit.login_count",
    patterns=(
        # "今天有几个人登录", "昨天有多少人登录过"
        ASK_WORD + rf"(?:(?P<when>{DAYS})的?)?{_PEOPLE}{_LOGGED_IN}(?:系统)?$",
        # "今天登录了几个人", "今天登录的有多少人"
        ASK_WORD + rf"(?:(?P<when>{DAYS})的?)?{_LOGGED_IN}的?{_PEOPLE}(?:次)?$",
        # "今天登录人数", "本周登录人数是多少"
        ASK_WORD + rf"(?:(?P<when>{DAYS})的?)?(?:登录|上线)人数(?:是多少|有多少|多少)?$",
    ),
    permission=PERMISSION,
    priority=30,
)
async def login_count(turn: Turn) -> ChatReply:
    """How many people in scope logged in (successfully) on the days asked (today if none), and how
    many times; the list of those days' logins is a tap away."""
    today = runtime.get().clock.china_now().date()
    first, last = _days(turn) or (today, today)
    since, before = china_days(first, last)
    query = entries_query(turn.actor, action=LOGIN, outcome=SUCCESS, since=since, before=before)
    [counted] = await query.annotate(people=Count("actor_account_id", distinct=True), times=Count("id")).values(
        "people", "times"
    )
    when = say_days(first, last, today)
    people, times = int(counted["people"] or 0), int(counted["times"] or 0)
    if people:
        text = msg.CHAT_LOGIN_COUNT.format(when=when, people=people, times=times)
    else:
        text = msg.CHAT_LOGIN_COUNT_NONE.format(when=when)
    listed = {"action": LOGIN, "from_day": first.isoformat(), "to_day": last.isoformat()}
    chip = Suggestion(
        label=msg.BUTTON_LOGINS, action=Action(label=msg.BUTTON_LOGINS, intent="audit.recent", params=listed)
    )
    return ChatReply(blocks=[NoticeBlock(text=text)], suggestions=[chip, *suggestions()])


async def _unit_asked(turn: Turn) -> Unit | None:
    """The unit whose entries are asked for: a button's ``unit_id``, or a name that is exactly one
    unit's in scope and no one's ("王家湾村的操作记录"; a person of that name comes first)."""
    if turn.params.get("unit_id") is not None:
        unit_id = int_param(turn.params, "unit_id")
        return await get_unit(turn.actor, unit_id) if unit_id is not None else None
    name = str(turn.params.get("name") or "").strip()
    if not name or turn.params.get("account_id") is not None:
        return None
    if is_reference(name):  # "本镇的操作记录", "这个村的登录记录"
        unit = await resolve_unit(turn, "audit.recent")
        return unit if isinstance(unit, Unit) else None
    units = await units_named(turn.actor, name, limit=2)
    if len(units) != 1:
        return None
    people = await lookup.find(turn.actor, name, units=False, people=True, limit=1)
    return None if people.matches and people.matches[0].rank < lookup.Rank.FUZZY else units[0]


def _days(turn: Turn) -> tuple[date, date] | None:
    """The first and last day asked for, as typed (China's today from the clock) or a button's
    ``from_day`` / ``to_day`` (``day``: one day, from earlier answers); None: not asked."""
    typed = turn.params.get("when") or turn.params.get("when_first")
    if typed:
        days = days_named(str(typed), runtime.get().clock.china_now().date())
        if days is None:
            raise AppError("bad_day", msg.CHAT_BAD_DAY)
        return days
    first, last = (turn.params.get(key) for key in ("from_day", "to_day"))
    if first is None and last is None:
        first = last = turn.params.get("day")
    if first is None or last is None:
        return None
    days = (_iso_day(first), _iso_day(last))
    if days[0] > days[1]:
        _bad()
    return days


def _iso_day(value: Any) -> date:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else _bad()
    except ValueError:
        return _bad()


def _bad() -> date:
    raise AppError("bad_param", msg.CHAT_BAD_PARAM)


def _title(params: dict[str, Any], name: str) -> str:
    if params.get("action") == LOGIN:
        what = msg.CHAT_TITLE_FAILED_LOGINS if params.get("outcome") == FAILURE else msg.CHAT_TITLE_LOGINS
    else:
        what = msg.CHAT_TITLE
    when = ""
    if params.get("from_day"):
        today = runtime.get().clock.china_now().date()
        when = say_days(date.fromisoformat(params["from_day"]), date.fromisoformat(params["to_day"]), today)
    if name:
        return msg.CHAT_OF.format(name=name, when=when, what=what)
    return msg.CHAT_WHEN.format(when=when, what=what) if when else what


async def _names(actor: Actor, entries: list[AuditEntry]) -> dict[int, str]:
    """Who acted, in words: the name of an account the reader may see (one unit in scope), else
    "上级单位人员" for one of a unit above the reader's, else "辖区外人员" (moved away, say)."""
    ids = {e.actor_account_id for e in entries if e.actor_account_id is not None}
    if not ids:
        return {}
    in_scope = set(await memberships_in_scope(actor).filter(account_id__in=ids).values_list("account_id", flat=True))
    higher = await above_level(actor, in_scope)  # a higher role of the reader's own unit: not named either (P2)
    visible = in_scope - higher
    names: dict[int, str] = {account_id: msg.CHAT_ELSEWHERE for account_id in ids - in_scope}
    names.update((account_id, msg.CHAT_ABOVE) for account_id in higher)
    above = _paths_above(actor.unit_path)
    if names and above:
        from_above = Membership.filter(account_id__in=list(names), unit__path__in=above)
        names.update(
            (account_id, msg.CHAT_ABOVE) for account_id in await from_above.values_list("account_id", flat=True)
        )
    if visible:
        names.update(await Account.filter(id__in=visible).values_list("id", "name"))
    return names


def _paths_above(path: str) -> list[str]:
    """The paths of the units above the one at ``path`` ("/1/2/3/" -> "/1/", "/1/2/")."""
    ids = path.strip("/").split("/")[:-1]
    return ["/" + "/".join(ids[: n + 1]) + "/" for n in range(len(ids))]


def _row(entry: AuditEntry, names: dict[int, str]) -> list[str]:
    who = msg.CHAT_SOMEONE if entry.actor_account_id is None else names[entry.actor_account_id]
    return [
        entry.at.astimezone(CHINA_TIME).strftime("%m-%d %H:%M"),
        msg.ACTION_LABELS.get(entry.action, entry.action),
        who,
        msg.OUTCOMES.get(entry.outcome, entry.outcome),
    ]
