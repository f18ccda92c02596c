"""Chat intents of the accounts domain (registered on import by backend.chat.intents).

- ``lookup.name``: units and people by name, exact, pinyin or near (backend/chat/lookup.py). It
  lives here because this domain knows both; people are found only by roles that may see accounts.
- ``account.card``, ``account.status`` ("王建国的账号锁了吗"), ``lookup.id_number`` and
  ``lookup.phone`` (through the HMAC index: outside the scope or nowhere, the same answer).
- ``unit.members`` ("这个村有哪些人", paged), for admins.
- ``account.reset_password`` and ``account.unlock``: buttons (with a question to confirm) that call
  the same actions as the API, so the same permission and scope checks and the same audit entry.
  Typed ("重置王建国的密码") they only show the card with the button.
- ``account.form`` ("新建账号", "在王家湾村添加录入员") answers the form whose "新建账号" sends
  ``account.create``: the API's create (P4: the temporary password goes by SMS, never shown).
- ``account.deactivate`` ("停用王建国的账号"): a card that says what will happen, whose "确认停用"
  runs the API's deactivation (P6).

Personal data leaves masked, as from the API.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from backend.accounts import actions
from backend.accounts import messages as msg
from backend.accounts.models import Account, Membership
from backend.accounts.queries import (
    AccountPage,
    Lockable,
    get_account,
    is_locked,
    list_accounts,
    memberships_in_scope,
)
from backend.accounts.schemas import AccountCreate
from backend.accounts.serializers import masked_phone
from backend.cards import messages as cards_msg
from backend.chat import lookup
from backend.chat import lookup_messages as lmsg
from backend.chat import messages as chat_msg
from backend.chat.choices import means_last_person
from backend.chat.params import whole_number
from backend.chat.parser import ASK, ASK_WORD, without_asking
from backend.chat.protocol import (
    Action,
    CardBlock,
    ChatReply,
    FormBlock,
    FormField,
    KeyValue,
    NoticeBlock,
    Suggestion,
    TableBlock,
)
from backend.chat.references import is_reference
from backend.chat.registry import Turn, answer_other_name, intent
from backend.chat.service import not_allowed_reply, said
from backend.chat.service import suggestions as default_suggestions
from backend.core import db, identifiers, runtime
from backend.core.actor import Actor
from backend.core.errors import AppError, NotFound, ValidationFailed
from backend.core.roles import FINANCE_LABELS, ROLE_LABELS, FinanceAccess, Role, allows, rank
from backend.core.scope import scope_like
from backend.core.validation import text_values
from backend.units.chat import (
    choices_reply,
    int_param,
    not_found_reply,
    resolve_unit,
    unit_reply,
    unit_suggestions,
)
from backend.units.queries import get_unit

PAGE_SIZE = 10
MAX_CHOICES = 10
MAX_LOOKUP_OFFSET = 100  # "更多" pages a name lookup's buttons this far; past it, a fuller name helps
_INDEXED = {"id_number": "id_number_index", "phone": "phone_index"}  # the keyed index of a lookup
_ACCOUNT = r"(?:账号|账户|帐号|帐户)"
_ROLE = "(?P<role>" + "|".join(sorted(ROLE_LABELS.values(), key=len, reverse=True)) + ")"
_ROLE_BY_LABEL = {label: role for role, label in ROLE_LABELS.items()}
_OFFICE = r"(?P<office>党委书记|党支部书记|村支书|支书|书记|村主任|主任|村长|镇长|乡长|县长|市长)"
_MEMBERS_PATTERNS = (
    ASK_WORD + r"(?:人员|成员|工作人员|干部)(?:有哪些|有谁|列表|名单)?$",  # "查人员": 查 is no name
    # a unit's accounts, asked as a list or a count ("王家湾村有哪些账号", "王家湾村的账号有几个");
    # "侯国梅的账号" alone is that person's (account.card)
    ASK + rf"(?P<name>.{{0,20}}?)(?:有哪些|有几个|有多少个?)(?:用户|{_ACCOUNT})$",
    ASK + rf"(?P<name>.{{0,20}}?)的?(?:用户|{_ACCOUNT})(?:有哪些|有几个|有多少个?|列表|名单|都有谁)$",
    ASK
    + r"(?!.*从业人员)(?P<name>.{0,20}?)(?:有哪些|都有哪些|的)?(?:人员|成员|工作人员|干部)(?:有哪些|有谁|列表|名单)?$",
    # (not a co-op figure: "社员有多少人", "白沙镇合作社有多少人" are the summary's)
    ASK + r"(?!.*(?:管理员|录入员|查看员))(?P<name>.{0,20}?)(?:有哪些人|有谁|都有谁|有什么人|的人)$",
    ASK
    + r"(?!.*(?:社员|从业人员|合作社|管理员|录入员|查看员))(?P<name>.{0,20}?)(?:一共|总共|共)?"
    + r"(?:有几个人|有多少人|几个人|多少人)$",
    ASK + r"(?:都有谁|有谁|谁|哪些人|什么人)在(?P<name>.{1,20}?)(?:工作|上班|里)?$",
    # Who holds one role: "王家湾村的管理员是谁", "谁是王家湾村的管理员", "这个村有哪些录入员".
    ASK + rf"(?:谁是|哪些人是|哪位是)(?P<name>.{{0,20}}?)的?{_ROLE}$",
    ASK + rf"(?P<name>.{{0,20}}?)(?:有哪些|有几个|有多少个?){_ROLE}$",
    # a name of one character is a surname ("李管理员" is someone), not a unit
    ASK + rf"(?P<name>(?:.{{2,20}}?)?)的?{_ROLE}(?:是谁|是哪位|有哪些|有谁|都有谁|都是谁|有几个|列表|名单)?$",
    # An office, which no account holds ("王家湾村的书记是谁"): the unit's people, saying so.
    ASK + rf"(?:谁是|哪位是)(?P<name>.{{2,20}}?)的?{_OFFICE}$",
    ASK + rf"(?P<name>.{{2,20}}?)的?{_OFFICE}(?:是谁|是哪位|叫什么|叫什么名字)?$",
)
# A unit's accounts ("王家湾村的账号", "村里的账号"): its people for who may see them, else its card (a
# person's, "侯国梅的账号", is account.card's).
_UNIT_ACCOUNTS_PATTERNS = (
    ASK + rf"(?P<name>.{{0,19}}(?:村|镇|乡|县|市|省|社区|街道|单位|村里|镇里|乡里))的?(?:用户|{_ACCOUNT})$",
)
# Who a person is or where they work: "侯国梅是谁", "侯国梅在哪个单位", "侯国梅是哪个村的", "侯国梅的账号".
# Tried after the co-op card's questions (priority): "...的联系人是谁" asks about a co-op. A contact
# question ("侯国梅的电话") is the co-op card's, which answers a person's card for a person's name.
_PERSON_PATTERNS = (
    ASK + r"(?P<name>.{1,20}?)(?:是谁|是哪位)$",
    ASK + r"(?P<name>.{1,20}?)(?:在|是)(?:哪个|什么)(?:单位|村|镇|乡|乡镇|街道|社区|部门)的?(?:工作|上班)?$",
    ASK + r"(?P<name>.{1,20}?)(?:是哪里的|在哪里?(?:工作|上班))$",
    ASK + rf"(?P<name>.{{1,20}}?)的?{_ACCOUNT}(?:信息|情况)?$",
    ASK + r"(?P<name>.{1,20}?)的(?:用户名|账号名|个人信息|信息|资料)$",
    # the card shows what of it may be shown (masked; a reveal is the API's, audited)
    ASK + r"(?P<name>.{2,20}?)的?(?:身份证号码|身份证号|身份证)(?:是多少|多少)?$",
    # the card shows the units and roles: "侯国梅是什么角色", "侯国梅的角色", "侯国梅是管理员吗"
    ASK + r"(?P<name>.{1,20}?)(?:是什么|是啥|是哪个|是哪种)(?:角色|职务|岗位|权限)$",
    ASK + r"(?P<name>.{1,20}?)的(?:角色|职务|岗位|权限)(?:是什么|是啥)?$",
    ASK + rf"(?P<name>.{{1,20}}?)是(?:不是)?{_ROLE}(?:吗|么)?$",
)
# A question about a lock needs the word for account, "被锁" or "锁了": 王金锁 is a name, not a question.
_STATUS_PATTERNS = (
    ASK + rf"(?P<name>.{{1,20}}?)的?{_ACCOUNT}(?:是不是|是否|有没有)?被?锁(?:定|住)?了?(?:吗|没有|没|么)?$",
    ASK + r"(?P<name>.{1,20}?)的?(?:是不是|是否|有没有)?被锁(?:定|住)?了?(?:吗|没有|没|么)?$",
    ASK + r"(?P<name>.{1,20}?)的?锁(?:定|住)?了(?:吗|没有|没|么)?$",
    ASK + rf"(?P<name>.{{1,20}}?)的?{_ACCOUNT}(?:状态|怎么了|还能用吗|能用吗|能不能用)$",
    # as a support call begins: "侯国梅为什么登不上", "侯国梅登录不了" (one's own is the "我的" page's)
    ASK
    + r"(?!我|自己)(?P<name>.{1,20}?)(?:为什么|怎么|咋)?"
    + r"(?:登不上|登不进去|登录不了|登陆不了|登录不上|进不去)了?(?:吗|呢)?$",
)
# Which accounts are locked, in the scope or in a unit of it ("哪些账号被锁了", "王家湾村被锁的账号").
_LOCKED_LIST_PATTERNS = (
    ASK + rf"(?P<name>.{{0,20}}?)(?:哪些|有哪些|有没有|有谁的?|谁的){_ACCOUNT}被?锁(?:定|住)?了?(?:吗)?$",
    ASK
    + rf"(?P<name>.{{0,20}}?)(?:有没有|有)?的?(?:被锁住|被锁定|被锁|锁定|锁住)的?(?:{_ACCOUNT}|人)"
    + r"(?:有哪些|有谁|列表|名单)?$",
    ASK + rf"(?P<name>.{{0,20}}?)的?{_ACCOUNT}被锁(?:定|住)?的人$",
    # "谁被锁定了", "有人被锁了吗", "白沙镇有谁被锁了" (tried before a person's lock: no one is named 谁)
    ASK + r"(?P<name>.{0,20}?)(?:有)?(?:谁|人|哪些人|哪个人)(?:的账号)?被锁(?:定|住)?了?(?:吗|没有)?$",
)
# Which accounts are deactivated ("停用的账号", "哪些账号被停用了", "王家湾村已注销的账号").
_DEACTIVATED = r"(?:停用|注销|禁用)"
_DEACTIVATED_LIST_PATTERNS = (
    ASK + rf"(?P<name>.{{0,20}}?)(?:哪些|有哪些|有没有|有谁的?|谁的){_ACCOUNT}(?:被|已|已经)?{_DEACTIVATED}了?吗?$",
    ASK + rf"(?P<name>.{{0,20}}?)的?(?:被|已|已经)?{_DEACTIVATED}了?的(?:{_ACCOUNT}|人)(?:有哪些|有谁|列表|名单)?$",
)
_RESET_PATTERNS = (
    ASK + r"(?:重置|重设)(?P<name>.{1,20}?)的?密码$",
    ASK + r"(?:给|帮|替)(?P<name>.{1,20}?)(?:重置|重设)(?:一下|下)?密码$",
    ASK + r"(?:把|将)?(?P<name>.{1,20}?)的?密码(?:重置|重设)(?:一下|下)?$",
)
_UNLOCK_PATTERNS = (
    ASK + rf"(?:解锁|解开)(?P<name>.{{1,20}}?)的?{_ACCOUNT}?$",
    ASK + rf"(?:给|帮|替|把|将)?(?P<name>.{{1,20}}?)的?{_ACCOUNT}?解锁(?:一下|下)?$",
)
# A new account, in the unit named ("给王家湾村新建一个账号", "在王家湾村添加录入员") or the last shown.
# 加 / 开 alone before a measure word only: "王开账号" is 王开's account, "加个录入员" asks for one
_CREATE = r"(?:新建|添加|新增|增加|创建|开通|开设|(?:加|开)(?=一个|一名|一位|个))"
_NEW_ONE = r"(?:一个|一名|一位|个)?(?:新的?)?"
_FORM_PATTERNS = (
    ASK_WORD + rf"{_CREATE}{_NEW_ONE}(?:{_ACCOUNT}|用户|{_ROLE})$",
    ASK + rf"(?:给|为|在)?(?P<name>.{{1,20}}?){_CREATE}{_NEW_ONE}(?:{_ACCOUNT}|用户|{_ROLE})$",
)
# Someone's account deactivated: "停用王建国的账号", "注销王建国的账号", "把王建国的账号停用". A name
# never begins with 的 ("注销的账号" lists them, accounts.deactivated); 注销 alone also means logging
# out, so it needs the word for account.
_PLEASE = r"(?:请|帮我|麻烦)?"
_REMOVE = rf"(?:{_DEACTIVATED}|删除|删掉|删)"  # an account is never deleted: 删 asks to deactivate it
_DEACTIVATE_PATTERNS = (
    ASK + rf"{_PLEASE}{_REMOVE}(?P<name>[^的].{{0,19}}?)的?{_ACCOUNT}$",
    ASK + rf"{_PLEASE}(?:停用|禁用)(?!{_ACCOUNT}$)(?P<name>[^的].{{0,19}}?)$",
    ASK + rf"{_PLEASE}(?:把|将)(?P<name>.{{1,20}}?)的?{_ACCOUNT}?{_REMOVE}(?:掉|了)?$",
)


def may_see_people(actor: Actor) -> bool:
    return allows(actor.role, "accounts.view")


def _minutes_left(account: Status, now: datetime) -> int:
    assert account.locked_until is not None
    return max(1, math.ceil((account.locked_until - now).total_seconds() / 60))


class Status(Lockable, Protocol):
    """What the status of an account is read from: the model, or a card's row of columns."""

    @property
    def is_active(self) -> bool: ...
    @property
    def must_change_password(self) -> bool: ...


def status_text(account: Status, now: datetime) -> str:
    if not account.is_active:
        return msg.CHAT_STATUS_DEACTIVATED
    if is_locked(account, now):
        return msg.CHAT_STATUS_LOCKED.format(minutes=_minutes_left(account, now))
    return msg.CHAT_STATUS_MUST_CHANGE if account.must_change_password else msg.CHAT_STATUS_ACTIVE


class _Person(NamedTuple):
    """The columns of an account its card shows."""

    id: int
    name: str
    username: str
    phone_enc: str | None
    is_active: bool
    locked_until: datetime | None
    must_change_password: bool
    failed_logins: int
    card_protected: bool  # it has a bound card and the actor has none: no changes (C6)


class _Held(NamedTuple):
    """One membership of the person: the role and its unit."""

    role: str
    unit_id: int
    unit_name: str
    unit_path: str


# The account with every membership and its unit, in membership order: one statement for the
# card. Every membership, not only those in scope: the buttons depend on whether the account
# actions would accept the actor for all of them (backend.accounts.actions); only those in scope
# are shown, and an account with none in scope is not found.
_PERSON_SQL = (
    "SELECT a.id, a.name, a.username, a.phone_enc, a.is_active, a.locked_until, a.must_change_password, "
    "a.failed_logins, m.role, u.id, u.name, u.path, "
    "EXISTS (SELECT 1 FROM card_binding c WHERE c.account_id = a.id) "
    "AND NOT EXISTS (SELECT 1 FROM card_binding c WHERE c.account_id = ?) "
    "FROM account a JOIN membership m ON m.account_id = a.id JOIN unit u ON u.id = m.unit_id "
    "WHERE a.id = ? ORDER BY m.id"
)
_LOCKED_UNTIL = Account._meta.fields_map["locked_until"]  # its conversion from the driver's value


async def _person(actor: Actor, account_id: int) -> tuple[_Person, list[_Held], list[_Held]]:
    """The account, its memberships in the actor's scope and all of them; NotFound outside the scope."""
    rows = await db.fetch_rows(_PERSON_SQL, [actor.account_id, account_id])
    held = [_Held(r[8], int(r[9]), r[10], r[11]) for r in rows]
    visible = [h for h in held if actor.covers(h.unit_path)]  # backend.core.scope.path_prefix's set
    if not visible:
        raise NotFound()
    r = rows[0]
    person = _Person(
        int(r[0]),
        r[1],
        r[2],
        r[3],
        bool(r[4]),
        _LOCKED_UNTIL.to_python_value(r[5]),
        bool(r[6]),
        int(r[7] or 0),
        bool(r[12]),
    )
    return person, visible, held


def _manageable(actor: Actor, person: _Person, held: list[_Held]) -> bool:
    """Would the account actions accept this actor for this account? (Decides which buttons show.)"""
    if person.id == actor.account_id or not person.is_active or not allows(actor.role, "accounts.manage"):
        return False
    return bool(held) and all(actions.may_assign_at(actor, h.unit_id, h.unit_path, h.role) for h in held)


def person_card(actor: Actor, person: _Person, visible: list[_Held], held: list[_Held]) -> CardBlock:
    """Who this is within the actor's scope: masked phone, units and roles in scope, status, buttons."""
    now = runtime.get().clock.now()
    phone = masked_phone(person)
    roles = "、".join(f"{h.unit_name}·{ROLE_LABELS[Role(h.role)]}" for h in visible)
    fields = [
        KeyValue(label=msg.CHAT_FIELD_USERNAME, value=person.username),
        KeyValue(label=msg.CHAT_FIELD_PHONE, value=phone or "—"),
        KeyValue(label=msg.CHAT_FIELD_UNITS, value=roles),
        KeyValue(label=msg.CHAT_FIELD_STATUS, value=status_text(person, now)),
    ]
    buttons: list[Action] = []
    if _manageable(actor, person, held):
        params = {"account_id": person.id}
        if is_locked(person, now) or person.failed_logins:
            confirm = msg.CHAT_CONFIRM_UNLOCK.format(name=person.name)
            buttons.append(
                Action(label=msg.CHAT_BUTTON_UNLOCK, intent="account.unlock", params=params, confirm=confirm)
            )
        if phone and not person.card_protected:  # backend.cards.actions.require_card_peer refuses it
            confirm = msg.CHAT_CONFIRM_RESET.format(name=person.name, phone=phone)
            reset = Action(
                label=msg.CHAT_BUTTON_RESET,
                intent="account.reset_password",
                params=params,
                style="danger",
                confirm=confirm,
            )
            buttons.append(reset)
        if _deactivate_refusal(actor, person, held) is None:  # its preview card asks before it is done
            label = msg.CHAT_BUTTON_TO_DEACTIVATE
            buttons.append(Action(label=label, intent="account.deactivate", params=params, style="danger"))
    buttons += [Action(label=h.unit_name, intent="unit.card", params={"unit_id": h.unit_id}) for h in visible[:3]]
    return CardBlock(title=person.name, subtitle=person.username, fields=fields, actions=buttons)


async def person_reply(
    turn: Turn, account_id: int, *, lead: NoticeBlock | None = None, remember: bool = True
) -> ChatReply:
    """The person card of an account in scope (outside it: the not-found notice of the service).
    ``remember``: record the question, so that "李建华呢" asks it about another person, and the
    person, so that "她", "这个人" mean them (backend.chat.choices.means_last_person); an ID number or
    phone lookup does not (its turn writes nothing to Redis, and no follow-up names a number)."""
    person, visible, held = await _person(turn.actor, account_id)
    if remember:  # "她", "这个人" mean this person from now on
        await turn.context.remember_person(person.id, person.name)
    blocks: list[Any] = [lead] if lead else []
    blocks.append(person_card(turn.actor, person, visible, held))
    return ChatReply(blocks=blocks, suggestions=default_suggestions())


async def _by_username(actor: Actor, name: str) -> int | None:
    """The account whose user name ``name`` is, when it is in the actor's scope: a colleague is
    often known by the user name on a form rather than by name (tried when no name matches)."""
    if not identifiers.valid_username(name):
        return None
    # One read finds the name and checks the scope (the card then reads the person once)
    in_scope = memberships_in_scope(actor).filter(account__username_key=name.lower())
    account_id = await in_scope.first().values_list("account_id", flat=True)
    return None if account_id is None else int(account_id)


def _person_not_found() -> ChatReply:
    return not_found_reply(msg.CHAT_PERSON_NOT_FOUND)


async def _last_person(turn: Turn) -> int | ChatReply:
    """The person "她" / "这个人" means: the one whose card this conversation showed last, or the
    notice that none was (checked against the scope by whoever reads the account, as a button's id)."""
    last = await turn.context.last_person()
    if last is None:
        return ChatReply(blocks=[NoticeBlock(text=chat_msg.NO_LAST_PERSON)], suggestions=default_suggestions())
    return last[0]


async def resolve_person(turn: Turn, intent_name: str) -> int | ChatReply:
    """The account a turn is about: a button's ``account_id``, "她" / "这个人" (the person last shown),
    or a name that picks one (or asks)."""
    account_id = int_param(turn.params, "account_id")
    if account_id is not None:
        return account_id
    name = str(turn.params.get("name") or "").strip()
    if means_last_person(name):
        return await _last_person(turn)
    found = await lookup.find(turn.actor, name, units=False, people=True, limit=MAX_CHOICES)
    if not found.matches:
        by_username = await _by_username(turn.actor, name)
        if by_username is not None:
            return by_username
        return not_found_reply(msg.CHAT_PERSON_NOT_FOUND, found.near)
    chosen = lookup.single(found)
    if chosen is not None:
        return chosen.id
    labels = await lookup.labels(turn.actor, found.matches)
    choices = [
        Action(label=label, intent=intent_name, params={"account_id": m.id})
        for m, label in zip(found.matches, labels, strict=True)
    ]
    title = msg.CHAT_CHOOSE_PERSON.format(count=len(choices), name=name)
    return ChatReply(blocks=[CardBlock(title=title, actions=choices)], suggestions=default_suggestions())


# A name asked about in a sentence ("王家湾村的基本情况", "介绍一下王家湾村"): the name's card. Tried
# after the questions that end the same way ("王建国的账号情况": account.card, priority 101).
_ABOUT_PATTERNS = (
    ASK + r"(?P<name>.{1,20}?)的?(?:基本情况|情况|概况|简介|怎么样)$",
    ASK + r"(?:介绍一下|介绍)(?P<name>.{1,20})$",
    # the codes a unit's card shows
    ASK + r"(?P<name>.{1,20}?)的?(?:区划代码|统一社会信用代码|信用代码|代码)(?:是多少|是什么|多少)?$",
)


@intent("lookup.name", patterns=_ABOUT_PATTERNS, priority=102)
async def lookup_name(turn: Turn) -> ChatReply:
    """A unit or person by name: one card, buttons for several (paged by "更多"), suggestions for none."""
    actor = turn.actor
    name = str(turn.params.get("name") or "").strip()
    if is_reference(name):  # "这个村", "本单位"
        unit = await resolve_unit(turn, "unit.card")
        return unit if isinstance(unit, ChatReply) else await unit_reply(turn, unit.id)
    offset = min(whole_number(turn.params.get("cursor")) or 0, MAX_LOOKUP_OFFSET)
    people = may_see_people(actor)
    found = await lookup.find(actor, name, units=True, people=people, limit=MAX_CHOICES, offset=offset)
    if not found.matches:
        if offset:  # the names changed since the last page
            notice = NoticeBlock(level="info", text=lmsg.NO_MORE_MATCHES.format(name=name))
            return ChatReply(blocks=[notice], suggestions=default_suggestions())
        by_username = await _by_username(actor, name) if people else None
        if by_username is not None:
            return await person_reply(turn, by_username)
        if (other := await answer_other_name(turn, name)) is not None:
            return other  # exactly a co-op contact's name, say (before the names spelt near it)
        for bare in without_asking(name):  # "查下王家湾": the name lookup was given "下王家湾"
            if (await lookup.find(actor, bare, units=True, people=people, limit=1)).matches:
                return await lookup_name(Turn(actor, {**turn.params, "name": bare}, turn.context, turn.text))
        text = lmsg.NOT_FOUND if people else lmsg.NOT_FOUND_UNITS_ONLY
        return not_found_reply(text.format(name=name), found.near)
    chosen = lookup.single(found) if not offset else None
    if chosen is None:
        following = offset + len(found.matches) if found.more and offset + MAX_CHOICES <= MAX_LOOKUP_OFFSET else None
        await turn.context.remember_page("lookup.name", {"name": name}, following)
        near = found.matches[0].rank >= lookup.Rank.FUZZY
        title = (lmsg.CHOOSE_NEAR if near else lmsg.CHOOSE).format(count=len(found.matches), name=name)
        first = offset + 1 if following is not None else None
        return await choices_reply(actor, title, found.matches, more=found.more, first=first)
    others = [m for m in found.matches if m is not chosen][:3]
    card = unit_reply(turn, chosen.id) if chosen.kind == lookup.Kind.UNIT else person_reply(turn, chosen.id)
    # The card and the labels of the other matches do not depend on each other: read together.
    reply, labels = await asyncio.gather(card, lookup.labels(actor, others))
    also = [
        Suggestion(label=label, action=lookup.action_for(m, label)) for m, label in zip(others, labels, strict=True)
    ]
    return reply.model_copy(update={"suggestions": also + reply.suggestions})


async def person_named(turn: Turn, name: str) -> ChatReply | None:
    """The card of the person in scope that ``name`` names (buttons for several), for a question that
    names a unit or a person ("侯国梅的联系方式"); None when the actor may not see people or no one
    matches better than a near spelling."""
    if not may_see_people(turn.actor):
        return None
    if means_last_person(name):  # "她是谁", "这个人的电话": the person last shown
        last = await _last_person(turn)
        return last if isinstance(last, ChatReply) else await person_reply(turn, last)
    found = await lookup.find(turn.actor, name, units=False, people=True, limit=MAX_CHOICES)
    if not found.matches or found.matches[0].rank >= lookup.Rank.FUZZY:
        return None
    chosen = lookup.single(found)
    if chosen is not None:
        return await person_reply(turn, chosen.id)
    title = msg.CHAT_CHOOSE_PERSON.format(count=len(found.matches), name=name)
    return await choices_reply(turn.actor, title, found.matches, more=found.more)


# After the co-op card's patterns (priority 100, and "account.card" sorts before "coop.card"). Typed,
# the question may be about a unit ("王家湾村是哪个镇的"), which every role may look up: the person's
# card itself needs accounts.view.
@intent(
    "account.card",
    patterns=_PERSON_PATTERNS,
    permission="units.view",
    priority=101,
    subject="name",
    subject_people=True,
)
async def account_card(turn: Turn) -> ChatReply:
    if turn.text is not None and turn.params.get("account_id") is None:
        # Typed ("侯国梅是谁"): the person (for who may see people); no one so named ("王家湾村是哪个
        # 镇的"): the name lookup, whose unit card says where the unit belongs.
        name = str(turn.params.get("name") or "").strip()
        return await person_named(turn, name) or await lookup_name(turn)
    if not may_see_people(turn.actor):
        return not_allowed_reply("accounts.view")
    return await _person_card(turn)


async def _person_card(turn: Turn) -> ChatReply:
    target = await resolve_person(turn, "account.card")
    return target if isinstance(target, ChatReply) else await person_reply(turn, target)


@intent(
    "account.status",
    patterns=_STATUS_PATTERNS,
    permission="accounts.view",
    priority=25,
    subject="name",
    subject_people=True,
)
async def account_status(turn: Turn) -> ChatReply:
    """Is this account locked (or deactivated)? The answer, then the card with what can be done."""
    target = await resolve_person(turn, "account.status")
    if isinstance(target, ChatReply):
        return target
    account = await get_account(turn.actor, target)
    now = runtime.get().clock.now()
    if not account.is_active:
        lead = NoticeBlock(level="info", text=msg.CHAT_DEACTIVATED.format(name=account.name))
    elif is_locked(account, now):
        text = msg.CHAT_LOCKED.format(name=account.name, minutes=_minutes_left(account, now))
        lead = NoticeBlock(level="warning", text=text)
    else:
        lead = NoticeBlock(level="info", text=msg.CHAT_NOT_LOCKED.format(name=account.name))
    return await person_reply(turn, account.id, lead=lead)


@intent("account.reset_password", patterns=_RESET_PATTERNS, permission="accounts.manage", priority=20, writes=True)
async def account_reset_password(turn: Turn) -> ChatReply:
    """The button: a new temporary password by SMS (backend.accounts.actions.reset_password)."""
    account_id = int_param(turn.params, "account_id")
    if account_id is None:  # typed: show whom it would be, with the button
        return await _person_card(turn)
    await actions.reset_password(turn.actor, account_id)
    account = await get_account(turn.actor, account_id)
    text = msg.CHAT_RESET_DONE.format(name=account.name, phone=masked_phone(account) or "")
    return await person_reply(turn, account_id, lead=NoticeBlock(level="success", text=text))


@intent("account.unlock", patterns=_UNLOCK_PATTERNS, permission="accounts.manage", priority=20, writes=True)
async def account_unlock(turn: Turn) -> ChatReply:
    """The button: clear the lock (backend.accounts.actions.unlock_account)."""
    account_id = int_param(turn.params, "account_id")
    if account_id is None:
        return await _person_card(turn)
    await actions.unlock_account(turn.actor, account_id)
    account = await get_account(turn.actor, account_id)
    lead = NoticeBlock(level="success", text=msg.CHAT_UNLOCK_DONE.format(name=account.name))
    return await person_reply(turn, account_id, lead=lead)


_ROLES_HIGH_FIRST = sorted(Role, key=rank, reverse=True)
_CREATE_FIELDS = ("username", "name", "phone", "id_number", "role", "finance_access")
# The refusals of create_account about one field of the form: answered as a 422 naming it, so the
# form opens again with the message under that field (the mini-program sends a 409 again, as busy).
_REFUSED_FIELD = {"username_taken": "username", "role_too_high": "role", "finance_too_high": "finance_access"}


@intent(
    "account.form",
    patterns=_FORM_PATTERNS,
    permission="accounts.manage",
    priority=30,
    subject="name",
    kept=("role",),
)
async def account_form(turn: Turn) -> ChatReply:
    """The form of a new account in a unit (named, else the last shown, else the actor's own): only
    the roles and finance access the actor may give there are offered; "新建账号" sends ``account.create``."""
    unit = await resolve_unit(turn, "account.form")
    if isinstance(unit, ChatReply):
        return unit
    await turn.context.remember_unit(unit.id, unit.name)
    roles = [role for role in _ROLES_HIGH_FIRST if actions.may_assign(turn.actor, unit, role)]
    if not roles:  # an admin may always give a lower role in its scope; kept for safety
        return ChatReply(
            blocks=[NoticeBlock(level="warning", text=msg.ROLE_TOO_HIGH)], suggestions=default_suggestions()
        )
    wanted = _role_param(turn.params)  # "在王家湾村添加录入员"
    lead = [NoticeBlock(text=msg.CHAT_FORM_HINT)]
    if wanted is not None and wanted not in roles:
        text = msg.CHAT_ROLE_NOT_GIVEN.format(unit=unit.name, role=ROLE_LABELS[wanted])
        lead.insert(0, NoticeBlock(level="warning", text=text))
    role = wanted if wanted is not None and wanted in roles else Role.CLERK if Role.CLERK in roles else roles[-1]
    finance = [f for f in FinanceAccess if actions.may_grant_finance(turn.actor, unit.id, f)]
    form = FormBlock(
        title=msg.CHAT_FORM_TITLE.format(unit=unit.name),
        fields=[
            FormField(name="username", label=msg.CHAT_FORM_FIELD_USERNAME),
            FormField(name="name", label=msg.CHAT_FORM_FIELD_NAME),
            FormField(name="phone", label=msg.CHAT_FORM_FIELD_PHONE, kind="phone"),
            FormField(name="id_number", label=msg.CHAT_FORM_FIELD_ID_NUMBER, kind="id_number", required=False),
            FormField(
                name="role",
                label=msg.CHAT_FORM_FIELD_ROLE,
                kind="select",
                options=[KeyValue(label=ROLE_LABELS[r], value=r.value) for r in roles],
                value=role.value,
            ),
            FormField(
                name="finance_access",
                label=msg.CHAT_FORM_FIELD_FINANCE,
                kind="select",
                options=[KeyValue(label=FINANCE_LABELS[f], value=f.value) for f in finance],
                value=FinanceAccess.NONE.value,
            ),
        ],
        submit=Action(
            label=msg.CHAT_BUTTON_CREATE, intent="account.create", params={"unit_id": unit.id}, style="primary"
        ),
    )
    return ChatReply(blocks=[*lead, form], suggestions=default_suggestions(), context=unit.name)


@intent("account.create", permission="accounts.manage", writes=True)
async def account_create(turn: Turn) -> ChatReply:
    """The form sent back: the API's create (backend.accounts.actions.create_account, the temporary
    password by SMS), checked as the API checks its body. A refused field answers 422 naming it, so
    the form opens again with the message under it; the new account's card on success."""
    unit_id = int_param(turn.params, "unit_id")
    if unit_id is None:
        raise AppError("bad_param", msg.CHAT_BAD_PARAM)
    sent = {name: turn.params[name] for name in _CREATE_FIELDS if turn.params.get(name) not in (None, "")}
    data = text_values(AccountCreate, {**sent, "unit_id": unit_id})
    try:
        account = await actions.create_account(turn.actor, **data.model_dump())
    except AppError as exc:
        field = _REFUSED_FIELD.get(exc.code)
        if field is None:
            raise
        raise ValidationFailed({field: exc.message}, exc.message) from exc
    text = msg.CHAT_CREATED.format(name=account.name, username=account.username, phone=masked_phone(account) or "")
    return await person_reply(turn, account.id, lead=NoticeBlock(level="success", text=text))


@intent(
    "account.deactivate",
    patterns=_DEACTIVATE_PATTERNS,
    permission="accounts.manage",
    priority=26,  # after the lists of deactivated and locked accounts and a person's lock
    writes=True,
)
async def account_deactivate(turn: Turn) -> ChatReply:
    """Typed, or a button without ``confirmed``: a card that says what will happen, with "确认停用"
    where the API's deactivation would accept it (else the person's card and why not). With
    ``confirmed``: that deactivation (backend.accounts.actions.deactivate_account), which checks all
    again; no ticket, as the API takes none."""
    if turn.params.get("confirmed") is not True:
        target = await resolve_person(turn, "account.deactivate")
        if isinstance(target, ChatReply):
            return target
        return await _deactivate_preview(turn, target)
    account_id = int_param(turn.params, "account_id")
    if account_id is None:
        raise AppError("bad_param", msg.CHAT_BAD_PARAM)
    await actions.deactivate_account(turn.actor, account_id)
    account = await get_account(turn.actor, account_id)
    lead = NoticeBlock(level="success", text=msg.CHAT_DEACTIVATED_DONE.format(name=account.name))
    return await person_reply(turn, account_id, lead=lead)


def _deactivate_refusal(actor: Actor, person: _Person, held: list[_Held]) -> str | None:
    """Why backend.accounts.actions.deactivate_account would refuse it (None: it would not); the
    card shows the status, so a deactivated account says so first."""
    if person.id == actor.account_id:
        return msg.NOT_SELF
    if not person.is_active:
        return msg.ALREADY_DEACTIVATED
    if not _manageable(actor, person, held):
        return msg.CANNOT_MANAGE
    if person.card_protected:
        return cards_msg.HOLDER_PROTECTED
    return None


async def _deactivate_preview(turn: Turn, account_id: int) -> ChatReply:
    person, visible, held = await _person(turn.actor, account_id)  # outside the scope: not found
    refusal = _deactivate_refusal(turn.actor, person, held)
    if refusal is not None:
        return await person_reply(turn, account_id, lead=NoticeBlock(level="warning", text=refusal))
    await turn.context.remember_person(person.id, person.name)  # "她被锁了吗" next: this person
    confirm = Action(
        label=msg.CHAT_BUTTON_DEACTIVATE,
        intent="account.deactivate",
        params={"account_id": person.id, "confirmed": True},
        style="danger",
    )
    roles = "、".join(f"{h.unit_name}·{ROLE_LABELS[Role(h.role)]}" for h in visible)
    card = CardBlock(
        title=msg.CHAT_DEACTIVATE_TITLE.format(name=person.name),
        subtitle=msg.CHAT_DEACTIVATE_WHAT.format(name=person.name, username=person.username),
        fields=[
            KeyValue(label=msg.CHAT_FIELD_USERNAME, value=person.username),
            KeyValue(label=msg.CHAT_FIELD_UNITS, value=roles),
        ],
        actions=[confirm],
    )
    return ChatReply(blocks=[card], suggestions=default_suggestions())


@intent(
    "unit.members",
    patterns=_MEMBERS_PATTERNS,
    permission="accounts.view",
    priority=40,
    pageable=True,
    subject="name",
    kept=("role", "whole"),
)
async def unit_members(turn: Turn) -> ChatReply:
    """Who holds a role in a unit of the scope (or one role: "王家湾村的管理员是谁"), a page at a
    time ("更多" continues)."""
    role = _role_param(turn.params)
    if role is not None and turn.params["role"] == ROLE_LABELS[role]:  # typed, not a button's
        named = f"{turn.params.get('name') or ''}{turn.params['role']}"
        if await _names_exactly(turn.actor, named):  # an account named "...管理员" is a name
            return await lookup_name(Turn(turn.actor, {"name": named}, turn.context, turn.text))
    turn, whole = _whole_area(turn)
    unit = await resolve_unit(turn, "unit.members")
    if isinstance(unit, ChatReply):
        return unit
    lead = []
    if office := turn.params.get("office"):
        lead = [NoticeBlock(level="info", text=msg.CHAT_NO_OFFICES.format(office=office, name=unit.name))]
    cursor = int_param(turn.params, "cursor")
    page = await list_accounts(
        turn.actor,
        **({"within": unit.path} if whole else {"unit_id": unit.id}),
        role=role,
        cursor=cursor,
        limit=PAGE_SIZE,
    )
    params: dict[str, Any] = {"unit_id": unit.id} if role is None else {"unit_id": unit.id, "role": role.value}
    if whole:
        params["whole"] = True
    await turn.context.remember_unit(unit.id, unit.name)
    await turn.context.remember_page("unit.members", params, page.next_cursor)
    named = msg.CHAT_WHOLE_AREA.format(name=unit.name) if whole else unit.name
    if not page.items and cursor is None:
        text = (
            msg.CHAT_NO_MEMBERS.format(name=named)
            if role is None
            else msg.CHAT_NO_ROLE_HOLDERS.format(name=named, role=ROLE_LABELS[role])
        )
        return ChatReply(
            blocks=[*lead, NoticeBlock(level="info", text=text)],
            suggestions=unit_suggestions(turn.actor, unit),
            context=unit.name,
        )
    title = (
        msg.CHAT_MEMBERS_TITLE.format(name=named)
        if role is None
        else msg.CHAT_ROLE_HOLDERS_TITLE.format(name=named, role=ROLE_LABELS[role])
    )
    if whole:  # whose unit each is, with the role
        columns, third = msg.CHAT_WHOLE_MEMBERS_COLUMNS, lambda m: f"{m.unit.name}·{ROLE_LABELS[Role(m.role)]}"
    else:
        columns, third = msg.CHAT_MEMBERS_COLUMNS, lambda m: ROLE_LABELS[Role(m.role)]
    table = _people_table(title, columns, "unit.members", params, page, third)
    return ChatReply(blocks=[*lead, table], suggestions=unit_suggestions(turn.actor, unit), context=unit.name)


# One's own role, unit and finance access ("我的权限", "我是什么角色"); the rest of one's own account
# is the "我的" page's (backend.chat.builtin).
@intent(
    "account.me",
    patterns=(
        r"^(?:我是谁|我是什么角色|我是什么身份|我的(?:角色|权限|身份)(?:是什么|是啥|有哪些)?|我有(?:哪些|什么)权限"
        r"|我能(?:看|查)(?:什么|哪些)|我是哪个单位的|我在哪个单位)\??$",
    ),
    priority=9,  # before the "我的" page's answer (chat.own_account)
)
async def account_me(turn: Turn) -> ChatReply:
    actor = turn.actor
    unit = await get_unit(actor, actor.unit_id)
    text = msg.CHAT_ME.format(
        unit=unit.name, role=ROLE_LABELS[actor.role], finance=FINANCE_LABELS[actor.finance_access]
    )
    return said(text)


@intent("unit.accounts", patterns=_UNIT_ACCOUNTS_PATTERNS, permission="units.view", priority=40, subject="name")
async def unit_accounts(turn: Turn) -> ChatReply:
    return await unit_members(turn) if may_see_people(turn.actor) else await lookup_name(turn)


_WHOLE_AFTER = re.compile(r"(?:及|和|以及)(?:其)?(?:下级单位|下属单位|以下|下面的?单位)$")


def _whole_area(turn: Turn) -> tuple[Turn, bool]:
    """Is a unit's whole area asked for ("全镇的录入员", "本镇及下级单位的录入员", a button's
    ``whole``), not its own members? The turn with the unit named plainly, and whether."""
    if turn.params.get("whole") is True:
        return turn, True
    name = str(turn.params.get("name") or "").strip()
    plain = _WHOLE_AFTER.sub("", name)
    if plain != name or (name.startswith("全") and is_reference(name)):
        return Turn(turn.actor, {**turn.params, "name": plain}, turn.context, turn.text), True
    return turn, False


async def _names_exactly(actor: Actor, name: str) -> bool:
    """Is ``name`` exactly the name of a unit, or of a person the actor may see, in scope?"""
    found = await lookup.find(actor, name, units=True, people=may_see_people(actor), limit=1)
    return bool(found.matches) and found.matches[0].rank == lookup.Rank.EXACT


def _role_param(params: dict[str, Any]) -> Role | None:
    """The role a member list is narrowed to: its label as typed ("管理员") or its value from a
    button ("admin"); anything else is treated as a missing row, like a bad id."""
    value = params.get("role")
    if value is None:
        return None
    if isinstance(value, str) and value in _ROLE_BY_LABEL:
        return _ROLE_BY_LABEL[value]
    try:
        return Role(value)
    except ValueError:
        raise NotFound() from None


def _people_table(
    title: str,
    columns: tuple[str, ...],
    intent_name: str,
    params: dict[str, Any],
    page: AccountPage,
    third: Callable[[Membership], str],
) -> TableBlock:
    """A page of memberships as a table: name, user name, ``third`` (role or unit), status; each row
    opens the person's card, "更多" the next page of ``intent_name``."""
    now = runtime.get().clock.now()
    more = None
    if page.next_cursor is not None:
        more = Action(label=msg.CHAT_BUTTON_MORE, intent=intent_name, params={**params, "cursor": page.next_cursor})
    return TableBlock(
        title=title,
        columns=list(columns),
        rows=[[m.account.name, m.account.username, third(m), status_text(m.account, now)] for m in page.items],
        row_actions=[
            Action(label=m.account.name, intent="account.card", params={"account_id": m.account.id}) for m in page.items
        ],
        total=page.total,
        more=more,
    )


@intent(
    "accounts.locked",
    patterns=_LOCKED_LIST_PATTERNS,
    permission="accounts.view",
    priority=24,
    pageable=True,
    subject="name",
)
async def locked_accounts(turn: Turn) -> ChatReply:
    """Accounts locked by wrong passwords in the scope (or a unit of it), a page at a time, each
    with its card (and there the unlock button)."""
    return await _accounts_in_status(turn, "accounts.locked", "locked", msg.CHAT_LOCKED_TITLE, msg.CHAT_NONE_LOCKED)


@intent(
    "accounts.deactivated",
    patterns=_DEACTIVATED_LIST_PATTERNS,
    permission="accounts.view",
    priority=24,
    pageable=True,
    subject="name",
)
async def deactivated_accounts(turn: Turn) -> ChatReply:
    """Deactivated accounts in the scope (or a unit of it), a page at a time, each with its card."""
    return await _accounts_in_status(
        turn,
        "accounts.deactivated",
        "deactivated",
        msg.CHAT_DEACTIVATED_TITLE,
        msg.CHAT_NONE_DEACTIVATED,
    )


async def _accounts_in_status(turn: Turn, intent_name: str, status: str, title: str, none: str) -> ChatReply:
    """The accounts of one ``status`` (list_accounts) in the scope, or in the unit named and below."""
    named = turn.params.get("name") or turn.params.get("unit_id") is not None
    # Named: that unit and below ("这个村" is the last unit shown); else the whole scope.
    unit = await resolve_unit(turn, intent_name) if named else await get_unit(turn.actor, turn.actor.unit_id)
    if isinstance(unit, ChatReply):
        return unit
    cursor = int_param(turn.params, "cursor")
    page = await list_accounts(turn.actor, within=unit.path, status=status, cursor=cursor, limit=PAGE_SIZE)
    params: dict[str, Any] = {"unit_id": unit.id}
    await turn.context.remember_page(intent_name, params, page.next_cursor)
    if not page.items and cursor is None:
        notice = NoticeBlock(level="info", text=none.format(name=unit.name))
        return ChatReply(blocks=[notice], suggestions=default_suggestions())
    columns = msg.CHAT_STATUS_LIST_COLUMNS
    table = _people_table(title.format(name=unit.name), columns, intent_name, params, page, lambda m: m.unit.name)
    return ChatReply(blocks=[table], suggestions=default_suggestions())


async def _people_by_index(turn: Turn, field: str, value: str) -> ChatReply:
    """Accounts in scope whose ``field`` is ``value``, found by its keyed index, never by decrypting."""
    index = runtime.get().vault.index(field, value)
    column = _INDEXED[field]
    in_scope, prefix = scope_like("u.path", turn.actor)  # a filter of the few rows the index finds
    rows = await db.fetch_rows(
        "SELECT m.account_id, a.name, u.depth, m.unit_id FROM account a "
        "JOIN membership m ON m.account_id = a.id JOIN unit u ON u.id = m.unit_id "
        f"WHERE a.{column} = ? AND {in_scope} ORDER BY u.depth, m.account_id LIMIT 50",
        [index, prefix],
    )
    people: dict[int, lookup.Match] = {}
    for account_id, name, depth, unit_id in rows:
        people.setdefault(int(account_id), lookup.person_match(int(account_id), name, int(depth), int(unit_id)))
    if not people:  # outside the scope answers exactly like nobody at all
        return _person_not_found()
    if len(people) == 1:
        return await person_reply(turn, next(iter(people)), remember=False)
    matches = list(people.values())[:MAX_CHOICES]
    title = msg.CHAT_CHOOSE_BY_NUMBER.format(count=len(matches))
    return await choices_reply(turn.actor, title, matches, more=len(people) > MAX_CHOICES)


@intent("lookup.id_number", permission="accounts.view")
async def lookup_id_number(turn: Turn) -> ChatReply:
    value = str(turn.params.get("id_number") or "").upper()
    if not identifiers.valid_id_number(value):  # mistyped: say so, rather than "nobody found"
        birth_date_valid = identifiers.id_number_birth_date_valid(value)
        said = msg.CHAT_ID_NUMBER_MISTYPED if birth_date_valid else msg.CHAT_ID_NUMBER_BAD_BIRTH_DATE
        return ChatReply(blocks=[NoticeBlock(level="warning", text=said)], suggestions=default_suggestions())
    return await _people_by_index(turn, "id_number", value)


@intent("lookup.phone", permission="accounts.view")
async def lookup_phone(turn: Turn) -> ChatReply:
    return await _people_by_index(turn, "phone", str(turn.params.get("phone") or ""))
