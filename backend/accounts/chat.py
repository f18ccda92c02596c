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
- ``account.last_login`` and ``accounts.not_logged_in`` ("谁还没登录过", "谁一个月没登录"): read
  from the account's ``last_login_at``, which every login sets (the card shows it too).
- ``account.role`` / ``account.finance`` ("把侯国梅改成查看员") and ``account.end_sessions`` ("踢侯国梅
  下线"): the card with confirm-first buttons calling the API's membership set and session end.
- What a support call asks ("侯国梅密码忘了", "宋晓平说收不到短信", "宋晓平的临时密码是多少"; "宋晓平为啥
  登不上", "宋晓平说密码不对": the lock, else the likely cause from the account's state and the next
  step), and what does not exist said so (``account.expiry``, ``account.reactivate``).

Personal data leaves masked, as from the API.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from backend.accounts import actions
from backend.accounts import messages as msg
from backend.accounts.models import Account, Membership
from backend.accounts.queries import (
    AccountPage,
    Lockable,
    LoginPage,
    above_level_sql,
    accounts_not_logged_in,
    get_account,
    is_locked,
    list_accounts,
    login_time,
    never_logged_in_since,
    outranks,
    visible_in_scope,
)
from backend.accounts.schemas import AccountCreate
from backend.accounts.serializers import masked_phone
from backend.cards import messages as cards_msg
from backend.chat import lookup, registry
from backend.chat import lookup_messages as lmsg
from backend.chat import messages as chat_msg
from backend.chat.choices import means_last_person
from backend.chat.params import whole_number
from backend.chat.parser import ASK, ASK_WORD, chinese_number, without_asking
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
from backend.core.clock import CHINA_TIME, china_minute, minutes_until
from backend.core.errors import AppError, NotFound, ValidationFailed
from backend.core.roles import FINANCE_LABELS, ROLE_LABELS, FinanceAccess, Role, allows, rank
from backend.core.scope import scope_like
from backend.core.sms import CLEARED, PASSWORD_TEMPLATES, SmsMessage, SmsStatus, decode_params
from backend.core.validation import text_values
from backend.units.chat import (
    above_scope,
    choices_reply,
    int_param,
    not_found_reply,
    resolve_unit,
    unit_reply,
    unit_suggestions,
)
from backend.units.models import Unit
from backend.units.queries import get_unit
from backend.wechat import releases as wechat_releases

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
_SAYS = r"(?:说|反映|讲)"  # "宋晓平说登不上": a support call's report
_WHY = r"(?:为什么|为啥|为何|怎么|咋|怎么又|又)"
_WHAT_NOW = r"(?:怎么回事|是怎么回事|咋回事|怎么办|咋办|咋整)"
# The why-word may come first ("为啥熊春登不上", "咋回事熊春登不上"); one's own ("为啥我登不上") is not a name.
_WHY_FIRST = rf"(?!(?:{_WHAT_NOW}|{_WHY})?(?:我|自己))(?:{_WHAT_NOW}|{_WHY})?"
# A question about a lock needs the word for account, "被锁" or "锁了": 王金锁 is a name, not a question.
_STATUS_PATTERNS = (
    ASK + rf"(?P<name>.{{1,20}}?)的?{_ACCOUNT}(?:是不是|是否|有没有)?被?锁(?:定|住)?了?(?:吗|没有|没|么)?$",
    ASK + r"(?P<name>.{1,20}?)的?(?:是不是|是否|有没有)?被锁(?:定|住)?了?(?:吗|没有|没|么)?$",
    ASK + r"(?P<name>.{1,20}?)的?锁(?:定|住)?了(?:吗|没有|没|么)?$",
    ASK + rf"(?P<name>.{{1,20}}?)的?{_ACCOUNT}(?:状态|怎么了|咋了|怎么啦|咋啦|还能用吗|能用吗|能不能用|{_WHAT_NOW})$",
    # as a support call begins: "侯国梅为什么登不上", "宋晓平为啥登不上去", "侯国梅登录不了怎么回事",
    # "为啥熊春登不上", "熊春登不上去了咋办" (one's own is the "我的" page's)
    ASK
    + rf"{_WHY_FIRST}(?P<name>.{{1,20}}?){_SAYS}?{_WHY}?"
    + r"(?:登不上去?|登不进去|登录不了|登陆不了|登录不上去?|登录不进去|进不去|上不去|无法登录|不能登录)"
    + rf"(?:系统|村务通)?了?(?:吗|呢)?{_WHAT_NOW}?$",
    # "宋晓平说密码不对", "宋晓平密码错误", "宋晓平说提示密码不正确" ("临时密码不对" names no one)
    ASK
    + rf"(?!我|自己|临时|初始|原来|新)(?P<name>.{{1,20}}?)的?{_SAYS}?(?:登录)?(?:提示|显示)?(?:登录)?密码"
    + rf"(?:不对|错误|错了|不正确|有误|输错了?)了?{_WHAT_NOW}?$",
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
_NOT_ME = r"(?!我|自己|本人)"  # one's own is the "我的" page's (backend.chat.builtin)
_FORGOT = r"(?:忘记|忘了|忘掉)"
_SEND = r"(?:发|发送)(?:一下|一次|下|个)?(?:新的?)?(?:临时)?密码"
_RESET_PATTERNS = (
    ASK + r"(?:重置|重设)(?P<name>.{1,20}?)的?密码$",
    ASK + r"(?:给|帮|替)(?P<name>.{1,20}?)(?:重置|重设)(?:一下|下)?密码$",
    ASK + r"(?:把|将)?(?P<name>.{1,20}?)的?密码(?:重置|重设)(?:一下|下)?$",
    # as a support call asks: "侯国梅密码忘了", "侯国梅忘记密码了", "重新给宋晓平发一下密码"
    ASK + _NOT_ME + rf"(?P<name>.{{1,20}}?)的?(?:登录)?密码{_FORGOT}了?$",
    ASK + _NOT_ME + rf"(?P<name>.{{1,20}}?){_FORGOT}了?(?:登录)?密码了?$",
    ASK + rf"(?:重新|再)(?:给|帮|替)(?P<name>.{{1,20}}?){_SEND}$",
    ASK + rf"(?:给|帮|替)(?P<name>.{{1,20}}?)(?:重新|再){_SEND}$",
    ASK + r"(?:重发|重新发送?)(?P<name>.{1,20}?)的(?:临时)?密码$",
)
_UNLOCK_PATTERNS = (
    ASK + rf"(?:解锁|解开)(?P<name>.{{1,20}}?)的?{_ACCOUNT}?$",
    ASK + rf"(?:给|帮|替|把|将)?(?P<name>.{{1,20}}?)的?{_ACCOUNT}?解锁(?:一下|下)?$",
)
# A new account, in the unit named ("给王家湾村新建一个账号", "在王家湾村添加录入员"), else the one
# the last answer showed, else the actor's own (unit_meant).
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

# Someone's WeChat released ("解绑侯国梅的微信", "把侯国梅的微信解绑") or asked about ("侯国梅的微信");
# one's own is the "我的" page's (backend.chat.builtin).
_WECHAT = r"(?:微信)(?:绑定)?"
_UNBIND = r"(?:解绑|解除绑定|解除|取消绑定)"
_UNBIND_WECHAT_PATTERNS = (
    ASK + rf"{_PLEASE}{_UNBIND}{_NOT_ME}(?P<name>[^的].{{0,19}}?)的?{_WECHAT}$",
    ASK + rf"{_PLEASE}(?:把|将|给|帮|替)?{_NOT_ME}(?P<name>[^的].{{0,19}}?)的?微信{_UNBIND}(?:一下|下|掉)?$",
    ASK + rf"{_NOT_ME}(?P<name>[^的].{{0,19}}?)的{_WECHAT}(?:情况|状态)?$",
)


def may_see_people(actor: Actor) -> bool:
    return allows(actor.role, "accounts.view")


async def unit_meant(turn: Turn, intent_name: str) -> Unit | ChatReply:
    """The unit a form, a member list or an agent list is for: a button's or the one named
    ("在王家湾村添加录入员", "这个村"); with none named, the unit the last answer showed (its card, its
    people), else the actor's own: "新建账号" or "人员" after a person's card or the log is not about
    a co-op seen long before."""
    if int_param(turn.params, "unit_id") is None and not str(turn.params.get("name") or "").strip():
        if await turn.context.unit_just_shown() is None:
            return await get_unit(turn.actor, turn.actor.unit_id)
    return await resolve_unit(turn, intent_name)


def _minutes_left(account: Status, now: datetime) -> int:
    assert account.locked_until is not None
    return minutes_until(account.locked_until, now)


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
    card_bound: bool  # a smart card is bound to it (C6)
    card_protected: bool  # it has a bound card and the actor has none: no changes (C6)
    last_login: datetime | None  # None: never logged in
    needs_sms_check: bool  # its first login proves the bound phone by SMS (P4)
    needs_activation: bool  # a card login made it: no password yet (C5)
    wechat_bound: bool  # a WeChat logs in as this account with one tap (W1)


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
    "EXISTS (SELECT 1 FROM card_binding c WHERE c.account_id = a.id), "
    "EXISTS (SELECT 1 FROM card_binding c WHERE c.account_id = ?), "
    "a.last_login_at, a.needs_sms_check, a.needs_activation, "
    "EXISTS (SELECT 1 FROM wechat_identity w WHERE w.account_id = a.id) "
    "FROM account a JOIN membership m ON m.account_id = a.id JOIN unit u ON u.id = m.unit_id "
    "WHERE a.id = ? ORDER BY m.id"
)
_LOCKED_UNTIL = Account._meta.fields_map["locked_until"]  # its conversion from the driver's value


async def _person(actor: Actor, account_id: int) -> tuple[_Person, list[_Held], list[_Held]]:
    """The account, its memberships in the actor's scope and all of them; NotFound outside the scope."""
    rows = await db.fetch_rows(_PERSON_SQL, [actor.account_id, account_id])
    held = [_Held(r[8], int(r[9]), r[10], r[11]) for r in rows]
    visible = [h for h in held if actor.covers(h.unit_path)]  # backend.core.scope.path_prefix's set
    if not visible or any(outranks(actor, h.unit_path, h.role) for h in held):  # above the actor (P2)
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
        bool(r[12]) and not r[13],
        login_time(r[14]),
        bool(r[15]),
        bool(r[16]),
        bool(r[17]),
    )
    return person, visible, held


def _manageable(actor: Actor, person: _Person, held: list[_Held]) -> bool:
    """Would the account actions accept this actor for this account? (Decides which buttons show.)"""
    if person.id == actor.account_id or not person.is_active or not allows(actor.role, "accounts.manage"):
        return False
    return bool(held) and all(actions.may_assign_at(actor, h.unit_id, h.unit_path, h.role) for h in held)


def _resettable(person: _Person) -> bool:
    """Does the card of a manageable account offer "重置密码"? A temporary password needs a phone to
    go to, and a card holder's account is changed only by a card holder
    (backend.cards.actions.require_card_peer)."""
    return bool(person.phone_enc) and not person.card_protected


def login_text(at: datetime | None) -> str:
    """When a login was, in China time ("2026-12-07 14:05"), or that there was none."""
    return msg.CHAT_NEVER_LOGGED_IN if at is None else china_minute(at)


def person_card(
    actor: Actor, person: _Person, visible: list[_Held], held: list[_Held], extra: tuple[Action, ...] = ()
) -> CardBlock:
    """Who this is within the actor's scope: masked phone, units and roles in scope, status, last
    login, buttons (``extra`` first: what the question asked for)."""
    now = runtime.get().clock.now()
    phone = masked_phone(person)
    roles = "、".join(f"{h.unit_name}·{ROLE_LABELS[Role(h.role)]}" for h in visible)
    fields = [
        KeyValue(label=msg.CHAT_FIELD_USERNAME, value=person.username),
        KeyValue(label=msg.CHAT_FIELD_PHONE, value=phone or "—"),
        KeyValue(label=msg.CHAT_FIELD_UNITS, value=roles),
        KeyValue(label=msg.CHAT_FIELD_STATUS, value=status_text(person, now)),
        KeyValue(label=msg.CHAT_FIELD_LAST_LOGIN, value=login_text(person.last_login)),
        KeyValue(label=msg.CHAT_FIELD_WECHAT, value=msg.CHAT_BOUND if person.wechat_bound else msg.CHAT_NOT_BOUND),
        KeyValue(label=msg.CHAT_FIELD_CARD, value=_card_text(person)),
    ]
    buttons: list[Action] = list(extra)
    if _manageable(actor, person, held):
        params = {"account_id": person.id}
        if is_locked(person, now) or person.failed_logins:
            confirm = msg.CHAT_CONFIRM_UNLOCK.format(name=person.name)
            buttons.append(
                Action(label=msg.CHAT_BUTTON_UNLOCK, intent="account.unlock", params=params, confirm=confirm)
            )
        if person.wechat_bound:
            buttons.append(_unbind_wechat_button(person))
        if _resettable(person):
            confirm = msg.CHAT_CONFIRM_RESET.format(name=person.name, phone=phone)
            reset = Action(
                label=msg.CHAT_BUTTON_RESET,
                intent="account.reset_password",
                params=params,
                style="danger",
                confirm=confirm,
            )
            buttons.append(reset)
        if _change_refusal(actor, person, held) is None:  # its preview card asks before it is done
            label = msg.CHAT_BUTTON_TO_DEACTIVATE
            buttons.append(Action(label=label, intent="account.deactivate", params=params, style="danger"))
    buttons += [Action(label=h.unit_name, intent="unit.card", params={"unit_id": h.unit_id}) for h in visible[:3]]
    return CardBlock(title=person.name, subtitle=person.username, fields=fields, actions=buttons)


def _card_text(person: _Person) -> str:
    """Whether a smart card is bound, and, to an admin without one, that it keeps them out (C6):
    the card has no "重置密码" then, which went unexplained."""
    if person.card_protected:
        return msg.CHAT_CARD_PROTECTED
    return msg.CHAT_BOUND if person.card_bound else msg.CHAT_NOT_BOUND


def _unbind_wechat_button(person: _Person) -> Action:
    """The confirm-first button that releases the account's WeChat (account.unbind_wechat)."""
    return Action(
        label=msg.CHAT_BUTTON_UNBIND_WECHAT,
        intent="account.unbind_wechat",
        params={"account_id": person.id},
        style="danger",
        confirm=msg.CHAT_CONFIRM_UNBIND_WECHAT.format(name=person.name),
    )


async def person_reply(
    turn: Turn,
    account_id: int,
    *,
    lead: NoticeBlock | None = None,
    extra: tuple[Action, ...] = (),
    read: tuple[_Person, list[_Held], list[_Held]] | None = None,
) -> ChatReply:
    """The person card of an account in scope (outside it: the not-found notice of the service).
    The question is recorded, so that "李建华呢" asks it about another person, and the person, so
    that "她", "这个人" mean them (backend.chat.choices.means_last_person), however they were found
    (a name, a user name, an ID number or a phone number). ``read``: the account as :func:`_person`
    read it this turn (not read again)."""
    person, visible, held = read or await _person(turn.actor, account_id)
    await turn.context.remember_person(person.id, person.name)  # "她", "这个人" mean this person from now on
    blocks: list[Any] = [lead] if lead else []
    blocks.append(person_card(turn.actor, person, visible, held, extra))
    return ChatReply(blocks=blocks, suggestions=default_suggestions())


async def _by_username(actor: Actor, name: str) -> int | None:
    """The account whose user name ``name`` is, when it is in the actor's scope: a colleague is
    often known by the user name on a form rather than by name (tried when no name matches)."""
    if not identifiers.valid_username(name):
        return None
    # One read finds the name and checks the scope (the card then reads the person once)
    in_scope = visible_in_scope(actor).filter(account__username_key=name.lower())
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
        if above := await above_scope(actor, name):  # "云岭省" typed by a city's cadre: say the scope
            return not_found_reply(above)
        text = lmsg.NOT_FOUND if people else lmsg.NOT_FOUND_UNITS_ONLY
        bare = without_asking(name) if " " in name else []  # "看下 changling": the name is "changling"
        return not_found_reply(text.format(name=bare[-1] if bare else name), found.near)
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


async def person_just_shown(turn: Turn) -> ChatReply | None:
    """The card of the person the last answer showed ("联系电话" typed right after it asks for their
    phone, masked as on the card); None: it showed no person's card, or the actor may no longer see
    them."""
    if not may_see_people(turn.actor):
        return None
    account_id = await turn.context.person_just_shown()
    if account_id is None:
        return None
    try:
        return await person_reply(turn, account_id)
    except NotFound:  # out of scope since
        return None


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
    return target if isinstance(target, ChatReply) else await _status_reply(turn, target)


async def _status_reply(turn: Turn, account_id: int, *, unlocking: bool = False) -> ChatReply:
    """Whether the account is locked or deactivated, in a sentence, then its card. Locked: how to
    unlock it (``unlocking``: "解锁熊春" typed, also when this actor may not); not locked: why it may
    not get in, from its state (:func:`_trouble_text`)."""
    read = await _person(turn.actor, account_id)
    person, _, held = read
    now = runtime.get().clock.now()
    if not person.is_active:
        lead = NoticeBlock(level="info", text=msg.CHAT_DEACTIVATED.format(name=person.name))
    elif is_locked(person, now):
        text = msg.CHAT_LOCKED.format(name=person.name, minutes=_minutes_left(person, now))
        if _manageable(turn.actor, person, held):  # its card has the button
            text += msg.CHAT_PRESS_UNLOCK
        elif unlocking:
            text += msg.CHAT_CANNOT_UNLOCK
        lead = NoticeBlock(level="warning", text=text)
    else:
        trouble = _trouble_text(turn.actor, person, held) or await _wechat_trouble(person)
        text = msg.CHAT_NOT_LOCKED.format(name=person.name) + trouble
        lead = NoticeBlock(level="info", text=text)
    return await person_reply(turn, person.id, lead=lead, read=read)


def _trouble_text(actor: Actor, person: _Person, held: list[_Held]) -> str:
    """Why a live account that is not locked may not get in, read from its state (no password yet,
    a temporary password not used or not changed yet, wrong passwords towards a lock), and what to
    do next; empty when its state explains nothing."""
    reset = msg.CHAT_TROUBLE_RESET
    if person.needs_activation:
        cause, reset = msg.CHAT_TROUBLE_NO_PASSWORD, msg.CHAT_TROUBLE_RESET_FOR_PASSWORD
    elif person.must_change_password and person.last_login is None:
        cause = msg.CHAT_TROUBLE_NEVER_USED_SMS if person.needs_sms_check else msg.CHAT_TROUBLE_NEVER_USED
    elif person.must_change_password:
        cause = msg.CHAT_TROUBLE_MUST_CHANGE
    elif person.failed_logins:
        settings = runtime.get().settings
        left = max(1, settings.login_max_failures - person.failed_logins)
        minutes = settings.lockout_seconds // 60
        return msg.CHAT_TROUBLE_FAILURES.format(failures=person.failed_logins, left=left, minutes=minutes)
    else:
        return ""
    text = cause.format(name=person.name, username=person.username)
    if not _manageable(actor, person, held):
        return text + msg.CHAT_TROUBLE_ASK_ADMIN
    if not person.phone_enc:
        return text + msg.CHAT_TROUBLE_NO_PHONE
    if _resettable(person):
        return text + reset.format(phone=masked_phone(person))
    return text  # a card holder's: the card shows why it cannot be changed here


async def _wechat_trouble(person: _Person) -> str:
    """A live account whose state explains nothing, with no WeChat bound: when and why its one-tap
    WeChat login was released lately, if it was (the phone told its owner; the admin on the support
    call is told too), and how to bind again; else empty."""
    if person.wechat_bound:
        return ""
    latest = await wechat_releases.latest_for(person.id)
    if latest is None:
        return ""
    reason, at = latest
    return msg.CHAT_TROUBLE_WECHAT_RELEASED.format(at=china_minute(at), cause=msg.CHAT_WECHAT_RELEASE_CAUSES[reason])


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
    """The button: clear the lock (backend.accounts.actions.unlock_account). Typed: whether the
    account is locked, with its card (and there the button)."""
    account_id = int_param(turn.params, "account_id")
    if account_id is None:
        target = await resolve_person(turn, "account.unlock")
        return target if isinstance(target, ChatReply) else await _status_reply(turn, target, unlocking=True)
    await actions.unlock_account(turn.actor, account_id)
    account = await get_account(turn.actor, account_id)
    lead = NoticeBlock(level="success", text=msg.CHAT_UNLOCK_DONE.format(name=account.name))
    return await person_reply(turn, account_id, lead=lead)


@intent(
    "account.unbind_wechat",
    patterns=_UNBIND_WECHAT_PATTERNS,
    permission="accounts.manage",
    priority=20,
    writes=True,
    subject="name",
    subject_people=True,
)
async def account_unbind_wechat(turn: Turn) -> ChatReply:
    """The button: release the account's WeChat (backend.accounts.actions.unbind_wechat, as the API's
    DELETE /api/accounts/<id>/wechat: the same checks, session end and audit). Typed: the card, led by
    why not when it has none or the actor may not, with the confirm-first button."""
    account_id = int_param(turn.params, "account_id")
    if account_id is None:
        target = await resolve_person(turn, "account.unbind_wechat")
        return target if isinstance(target, ChatReply) else await _unbind_wechat_preview(turn, target)
    await actions.unbind_wechat(turn.actor, account_id)
    account = await get_account(turn.actor, account_id)
    lead = NoticeBlock(level="success", text=msg.CHAT_WECHAT_RELEASED.format(name=account.name))
    return await person_reply(turn, account_id, lead=lead)


async def _unbind_wechat_preview(turn: Turn, account_id: int) -> ChatReply:
    read = await _person(turn.actor, account_id)  # outside the scope: not found
    person, _, held = read
    if not person.wechat_bound:
        lead = NoticeBlock(level="info", text=msg.CHAT_NO_WECHAT.format(name=person.name))
    elif (refusal := _change_refusal(turn.actor, person, held, card=False)) is not None:
        lead = NoticeBlock(level="warning", text=refusal)
    else:
        lead = NoticeBlock(level="info", text=msg.CHAT_UNBIND_WECHAT_HOW.format(name=person.name))
    return await person_reply(turn, person.id, lead=lead, read=read)


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
    """The form of a new account in a unit (:func:`unit_meant`): only the roles and finance access
    the actor may give there are offered; "新建账号" sends ``account.create``."""
    unit = await unit_meant(turn, "account.form")
    if isinstance(unit, ChatReply):
        return unit
    await turn.context.remember_unit(unit.id, unit.name, unit.type)
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


async def _person_to_change(
    turn: Turn, intent_name: str, *, card: bool = True
) -> tuple[_Person, list[_Held]] | ChatReply:
    """The person a change typed is about, with the memberships the actor holds of theirs; or the
    reply that asks which, or their card led by why the change would be refused (:func:`_change_refusal`)."""
    target = await resolve_person(turn, intent_name)
    if isinstance(target, ChatReply):
        return target
    person, _, held = await _person(turn.actor, target)
    refusal = _change_refusal(turn.actor, person, held, card=card)
    if refusal is not None:
        return await person_reply(turn, person.id, lead=NoticeBlock(level="warning", text=refusal))
    return person, held


def _change_refusal(actor: Actor, person: _Person, held: list[_Held], *, card: bool = True) -> str | None:
    """Why backend.accounts.actions would refuse a change of this account (None: it would not): its
    deactivation or membership set, or with ``card`` False its sessions' end (which a card holder's
    protection does not cover); the card shows the status, so a deactivated account says so first."""
    if person.id == actor.account_id:
        return msg.NOT_SELF
    if not person.is_active:
        return msg.ALREADY_DEACTIVATED
    if not _manageable(actor, person, held):
        return msg.CANNOT_MANAGE
    if card and person.card_protected:
        return cards_msg.HOLDER_PROTECTED
    return None


async def _deactivate_preview(turn: Turn, account_id: int) -> ChatReply:
    person, visible, held = await _person(turn.actor, account_id)  # outside the scope: not found
    refusal = _change_refusal(turn.actor, person, held)
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
    unit = await unit_meant(turn, "unit.members")
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
    await turn.context.remember_unit(unit.id, unit.name, unit.type)
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
    """Deactivated accounts in the scope (or a unit of it), a page at a time, each with its card;
    always said 停用, whatever word was typed ("已注销的账号"): the card's status and the notices say
    it so too."""
    return await _accounts_in_status(
        turn, "accounts.deactivated", "deactivated", msg.CHAT_STOPPED_TITLE, msg.CHAT_NONE_STOPPED
    )


async def _accounts_in_status(
    turn: Turn,
    intent_name: str,
    status: str,
    title: str,
    none: str,
    *,
    kept: dict[str, Any] | None = None,
    words: dict[str, str] | None = None,
) -> ChatReply:
    """The accounts of one ``status`` (list_accounts) in the scope, or in the unit named and below;
    ``kept``: parameters its next pages keep, ``words``: what ``title`` and ``none`` say besides the unit."""
    named = turn.params.get("name") or turn.params.get("unit_id") is not None
    # Named: that unit and below ("这个村" is the last unit shown); else the whole scope.
    unit = await resolve_unit(turn, intent_name) if named else await get_unit(turn.actor, turn.actor.unit_id)
    if isinstance(unit, ChatReply):
        return unit
    cursor = int_param(turn.params, "cursor")
    page = await list_accounts(turn.actor, within=unit.path, status=status, cursor=cursor, limit=PAGE_SIZE)
    params: dict[str, Any] = {"unit_id": unit.id, **(kept or {})}
    await turn.context.remember_page(intent_name, params, page.next_cursor)
    if not page.items and cursor is None:
        notice = NoticeBlock(level="info", text=none.format(name=unit.name, **(words or {})))
        return ChatReply(blocks=[notice], suggestions=default_suggestions())
    columns = msg.CHAT_STATUS_LIST_COLUMNS
    named = title.format(name=unit.name, **(words or {}))
    table = _people_table(named, columns, intent_name, params, page, lambda m: m.unit.name)
    return ChatReply(blocks=[table], suggestions=default_suggestions())


async def _people_by_index(turn: Turn, field: str, value: str) -> ChatReply:
    """Accounts in scope whose ``field`` is ``value``, found by its keyed index, never by decrypting."""
    index = runtime.get().vault.index(field, value)
    column = _INDEXED[field]
    in_scope, prefix = scope_like("u.path", turn.actor)  # a filter of the few rows the index finds
    not_above, above_values = above_level_sql(turn.actor, "a.id")  # P2
    rows = await db.fetch_rows(
        "SELECT m.account_id, a.name, u.depth, m.unit_id FROM account a "
        "JOIN membership m ON m.account_id = a.id JOIN unit u ON u.id = m.unit_id "
        f"WHERE a.{column} = ? AND {in_scope} AND {not_above} ORDER BY u.depth, m.account_id LIMIT 50",
        [index, prefix, *above_values],
    )
    people: dict[int, lookup.Match] = {}
    for account_id, name, depth, unit_id in rows:
        people.setdefault(int(account_id), lookup.person_match(int(account_id), name, int(depth), int(unit_id)))
    if not people:  # outside the scope answers exactly like nobody at all
        return _person_not_found()
    if len(people) == 1:
        return await person_reply(turn, next(iter(people)))
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


# ---- Round 3: last logins, who has not logged in, a support call's questions, role and finance
# changes, ending another's sessions, and the answers about what does not exist.

_ME = ("我", "我自己", "自己", "本人")
_LAST = r"(?:上次|上一次|最后一次|最近一次|最后|最近)"
_LAST_LOGIN_PATTERNS = (
    # "侯国梅上次什么时候登录的" ("侯国梅上次登录是什么时候" is the audit log's: audit.recent)
    ASK + rf"(?P<name>.{{1,20}}?){_LAST}?(?:是)?(?:什么时候|啥时候|哪天|几号)登(?:录|的)的?$",
    # "侯国梅上次登录", "侯国梅最后登录时间"
    ASK + rf"(?P<name>.{{1,20}}?)的?{_LAST}(?:一次)?登录(?:时间)?$",
)


@intent(
    "account.last_login",
    patterns=_LAST_LOGIN_PATTERNS,
    permission="accounts.view",
    priority=29,
    subject="name",
    subject_people=True,
)
async def account_last_login(turn: Turn) -> ChatReply:
    """When the person last logged in (the account's ``last_login_at``), in a sentence, then the
    card, which shows it too."""
    if turn.params.get("account_id") is None and turn.params.get("name") in _ME:
        turn = Turn(turn.actor, {**turn.params, "account_id": turn.actor.account_id}, turn.context, turn.text)
    target = await resolve_person(turn, "account.last_login")
    if isinstance(target, ChatReply):
        return target
    read = await _person(turn.actor, target)
    person = read[0]
    now = runtime.get().clock.now()
    level = "warning" if person.is_active and is_locked(person, now) else "info"
    lead = NoticeBlock(level=level, text=_login_state(person, now))
    return await person_reply(turn, target, lead=lead, read=read)


def _login_state(person: _Person, now: datetime) -> str:
    """When the person last logged in, and, while the account is locked, until when."""
    locked = person.is_active and is_locked(person, now)
    if person.last_login is None:
        never = msg.CHAT_LAST_LOGIN_NEVER_SUCCEEDED if locked or person.failed_logins else msg.CHAT_LAST_LOGIN_NEVER
        text = never.format(name=person.name)
    else:
        today = now.astimezone(CHINA_TIME).date()
        days = (today - person.last_login.astimezone(CHINA_TIME).date()).days
        ago = msg.CHAT_AGO_TODAY if days <= 0 else msg.CHAT_AGO_DAYS.format(days=days)
        text = msg.CHAT_LAST_LOGIN.format(name=person.name, at=login_text(person.last_login), ago=ago)
    if locked:
        assert person.locked_until is not None
        until = person.locked_until.astimezone(CHINA_TIME)
        shown = until.strftime("%H:%M") if until.date() == now.astimezone(CHINA_TIME).date() else login_text(until)
        text += msg.CHAT_LOCKED_UNTIL.format(until=shown)
    return text


async def login_state_line(actor: Actor, account_id: int) -> str:
    """One line on whether the account in scope logs in: its last login (or none yet) and, while it
    is locked, until when (NotFound outside the scope). For an answer that lists its login entries
    ("熊春最近登录过吗": backend.audit.chat), whose rows of failures say neither."""
    person, _, _ = await _person(actor, account_id)
    return _login_state(person, runtime.get().clock.now())


_WHO = r"(?:谁|哪些人|哪个人|哪位|有谁|有哪些人|哪些账号|有哪些账号|哪些用户)"
_NOT = r"(?:还从来|从来|还|从|一直|都)?(?:没有?|未曾?)"
_SPAN = (
    r"(?:超过|有|已经|已)?(?P<count>[0-9]{1,4}|[一二两三四五六七八九十百半]{1,4})个?"
    r"(?P<span>天|日|周|星期|礼拜|月|年)(?:以上|多)?"
)
_LONG = r"(?P<long>很久|好久|长期|长时间|太久|很长时间|好长时间)"
_NOT_LOGGED_IN_PATTERNS = (
    # "谁还没登录过", "哪些人从来没登录过", "王家湾村谁没登录过"
    ASK + rf"(?P<name>.{{0,20}}?){_WHO}的?(?:账号)?{_NOT}登录过?(?:系统)?(?:吗)?$",
    # "从未登录的账号", "王家湾村没登录过的人"
    ASK + rf"(?P<name>.{{0,20}}?)的?{_NOT}登录过?的(?:{_ACCOUNT}|人|用户)(?:有哪些|有谁|列表|名单)?$",
    # "谁很久没登录了", "谁一个月没登录", "哪些人30天没登录了"
    ASK + rf"(?P<name>.{{0,20}}?){_WHO}的?(?:账号)?(?:{_SPAN}|{_LONG})(?:都|还)?(?:没有?|未)登录?(?:过|了)?(?:吗)?$",
    # "超过三个月没登录的账号", "长期没登录的人"
    ASK
    + rf"(?P<name>.{{0,20}}?)的?(?:{_SPAN}|{_LONG})(?:都)?(?:没有?|未)登录过?的(?:{_ACCOUNT}|人|用户)"
    + r"(?:有哪些|有谁|列表|名单)?$",
)
_SPAN_DAYS = {"天": 1, "日": 1, "周": 7, "星期": 7, "礼拜": 7, "月": 30, "年": 365}
LONG_IDLE_DAYS = 30  # "很久没登录": a month
MAX_IDLE_DAYS = 36500


def _idle_days(params: dict[str, Any]) -> int | None:
    """The days without a login asked for: a button's ``days``, typed ("一个月", "30天", "很久"), or
    None: never logged in."""
    if "days" in params:
        days = whole_number(params.get("days"))
        return None if days is None else min(max(days, 1), MAX_IDLE_DAYS)
    span = _SPAN_DAYS.get(str(params.get("span") or ""))
    if span is not None:
        typed = str(params.get("count") or "")
        count = 0.5 if typed == "半" else chinese_number(typed)
        if count is None:  # "百个月": not a number said so
            return LONG_IDLE_DAYS
        return min(max(math.ceil(count * span), 1), MAX_IDLE_DAYS)
    return LONG_IDLE_DAYS if params.get("long") else None


@intent(
    "accounts.not_logged_in",
    patterns=_NOT_LOGGED_IN_PATTERNS,
    permission="accounts.view",
    priority=24,
    pageable=True,
    subject="name",
    kept=("count", "span", "long", "days"),
)
async def not_logged_in(turn: Turn) -> ChatReply:
    """Live accounts in the scope (or the unit named and below) that never logged in, or not for the
    days asked, a page at a time, each with its card."""
    days = _idle_days(turn.params)
    named = turn.params.get("name") or turn.params.get("unit_id") is not None
    unit = (
        await resolve_unit(turn, "accounts.not_logged_in") if named else await get_unit(turn.actor, turn.actor.unit_id)
    )
    if isinstance(unit, ChatReply):
        return unit
    cursor = int_param(turn.params, "cursor")
    since = None if days is None else runtime.get().clock.now() - timedelta(days=days)
    page = await accounts_not_logged_in(turn.actor, within=unit.path, since=since, cursor=cursor, limit=PAGE_SIZE)
    params: dict[str, Any] = {"unit_id": unit.id} if days is None else {"unit_id": unit.id, "days": days}
    await turn.context.remember_page("accounts.not_logged_in", params, page.next_cursor)
    # Idle for some days: those who never logged in but are newer than that are not in the list;
    # said on the first page, with the button to list them.
    new = (
        0
        if since is None or cursor is not None
        else await never_logged_in_since(turn.actor, within=unit.path, since=since)
    )
    after: list[Any] = (
        [NoticeBlock(level="info", text=msg.CHAT_NEVER_BUT_NEW.format(count=new, days=days))] if new else []
    )
    offered = default_suggestions()
    if new:
        never = Action(
            label=msg.CHAT_BUTTON_NEVER_LOGGED_IN, intent="accounts.not_logged_in", params={"unit_id": unit.id}
        )
        offered.insert(0, Suggestion(label=msg.CHAT_BUTTON_NEVER_LOGGED_IN, action=never))
    if not page.items and cursor is None:
        none = msg.CHAT_NONE_NOT_LOGGED_IN if days is None else msg.CHAT_NONE_IDLE
        notice = NoticeBlock(level="info", text=none.format(name=unit.name, days=days))
        return ChatReply(blocks=[notice, *after], suggestions=offered)
    title = msg.CHAT_NOT_LOGGED_IN_TITLE if days is None else msg.CHAT_IDLE_TITLE
    table = _login_table(title.format(name=unit.name, days=days), params, page)
    return ChatReply(blocks=[table, *after], suggestions=offered)


def _login_table(title: str, params: dict[str, Any], page: LoginPage) -> TableBlock:
    more = None
    if page.next_cursor is not None:
        more = Action(
            label=msg.CHAT_BUTTON_MORE, intent="accounts.not_logged_in", params={**params, "cursor": page.next_cursor}
        )
    return TableBlock(
        title=title,
        columns=list(msg.CHAT_LOGIN_LIST_COLUMNS),
        rows=[[r.name, r.username, r.unit_name, login_text(r.last_login)] for r in page.items],
        row_actions=[
            Action(label=r.name, intent="account.card", params={"account_id": r.account_id}) for r in page.items
        ],
        total=page.total,
        more=more,
    )


# Accounts and passwords have no expiry (P5): "谁的账号快过期了", "密码多久过期".
_EXPIRY_PATTERNS = (
    ASK
    + rf"(?:.{{0,20}}?的)?(?:{_ACCOUNT}|密码)(?:快|快要|就要|将要|会|要|已经|什么时候)?(?:过期|到期)"
    + r"(?:了吗|了|吗|没有|没)?$",
    ASK
    + rf"(?:我的)?(?:{_ACCOUNT}|密码)的?(?:多久|多长时间|有效期)(?:会)?(?:过期|到期|是多久|有多久|多长|是多长时间)?$",
    ASK + rf"(?:快要?|将要|即将)?(?:过期|到期)的?(?:{_ACCOUNT}|密码)(?:有哪些|有谁|列表)?$",
)


@intent("account.expiry", patterns=_EXPIRY_PATTERNS, priority=24)
async def account_expiry(turn: Turn) -> ChatReply:
    text = msg.CHAT_NO_EXPIRY + (msg.CHAT_NO_EXPIRY_ADMIN if may_see_people(turn.actor) else "")
    return ChatReply(blocks=[NoticeBlock(level="info", text=text)], suggestions=default_suggestions())


_SMS_NOT_RECEIVED = r"(?:一直|总是|还是)?(?:收不到|没收到|没有收到|接不到|收不着)"
_SMS_HELP_PATTERNS = (
    # "宋晓平说收不到短信", "宋晓平收不到验证码"
    ASK
    + _NOT_ME
    + rf"(?P<name>.{{1,20}}?)(?:说|反映|讲)?{_SMS_NOT_RECEIVED}(?:短信|验证码|临时密码|密码短信|密码)了?$",
    ASK + _NOT_ME + rf"(?P<name>.{{1,20}}?)的?(?:短信|验证码){_SMS_NOT_RECEIVED}了?$",
    # "宋晓平的短信发出去了吗", "给宋晓平的验证码发了没有", "宋晓平收到短信了吗"
    ASK
    + _NOT_ME
    + r"(?:给|发给)?(?P<name>.{1,20}?)的?(?:短信|验证码|临时密码)(?:发出去|发过去|发到|发出|发)了?(?:吗|没有|没)$",
    ASK + _NOT_ME + r"(?P<name>.{1,20}?)(?:收到|接到)(?:短信|验证码|临时密码)了?(?:吗|没有|没)$",
)


@intent(
    "account.sms_help",
    patterns=_SMS_HELP_PATTERNS,
    permission="accounts.view",
    priority=25,
    subject="name",
    subject_people=True,
)
async def account_sms_help(turn: Turn) -> ChatReply:
    """The person's bound phone (masked), what to check, and how the last SMS to it went, then the card."""
    target = await resolve_person(turn, "account.sms_help")
    if isinstance(target, ChatReply):
        return target
    account = await get_account(turn.actor, target)
    phone = masked_phone(account)
    if not phone or not account.phone_index:
        text = msg.CHAT_SMS_HELP_NO_PHONE.format(name=account.name)
    else:
        text = msg.CHAT_SMS_HELP.format(name=account.name, phone=phone)
        latest = await SmsMessage.filter(phone_index=account.phone_index).order_by("-id").first()
        if latest is None:
            text += msg.CHAT_SMS_NONE_SENT
        else:
            at = (latest.sent_at or latest.created_at).astimezone(CHINA_TIME).strftime("%m-%d %H:%M")
            text += msg.CHAT_SMS_LATEST.format(at=at, status=msg.CHAT_SMS_STATUS.get(str(latest.status), ""))
            if account.must_change_password and await _password_sms_failed(account):
                text += msg.CHAT_SMS_PASSWORD_NOT_SENT
    return await person_reply(turn, account.id, lead=NoticeBlock(level="info", text=text))


_PASSWORD_SMS_LOOKED_AT = 20  # the phone's latest temporary-password messages searched for the account's


async def _password_sms_failed(account: Account) -> bool:
    """Was the account's latest temporary password (to its phone) given up, never sent? Checking the
    phone cannot help then: only a new reset sends one. Another account on the same phone is not it."""
    rows = (
        SmsMessage.filter(phone_index=account.phone_index, template__in=sorted(PASSWORD_TEMPLATES))
        .exclude(params_enc=CLEARED)
        .order_by("-id")
        .limit(_PASSWORD_SMS_LOOKED_AT)
    )
    for message in await rows:
        try:
            _, params = decode_params(message)
        except Exception:  # unreadable: not known to be the account's
            continue
        if params.get("username") == account.username:
            return message.status == SmsStatus.FAILED
    return False


_PASSWORD_ASKED_PATTERNS = (
    # "宋晓平的临时密码是多少", "告诉我宋晓平的密码"
    ASK
    + r"(?:告诉我|发给我|发我)?"
    + _NOT_ME
    + r"(?P<name>.{1,20}?)的(?:临时|初始|新|原|登录)?密码(?:是多少|是什么|是啥|多少|发给我|告诉我)?$",
)


@intent(
    "account.password_asked",
    patterns=_PASSWORD_ASKED_PATTERNS,
    permission="accounts.view",
    priority=25,  # after a reset asked ("重置侯国梅的密码")
    subject="name",
    subject_people=True,
)
async def account_password_asked(turn: Turn) -> ChatReply:
    """A password is never shown (only its hash is kept; a temporary one went by SMS): said so, with
    the card (and there the reset)."""
    target = await resolve_person(turn, "account.password_asked")
    if isinstance(target, ChatReply):
        return target
    account = await get_account(turn.actor, target)
    phone = masked_phone(account)
    text = (
        msg.CHAT_PASSWORD_NOT_SHOWN.format(name=account.name, phone=phone)
        if phone
        else msg.CHAT_PASSWORD_NOT_SHOWN_NO_PHONE.format(name=account.name)
    )
    return await person_reply(turn, account.id, lead=NoticeBlock(level="info", text=text))


# A reset or unlock asked with no name ("重置密码", "我要解锁一个账号", "怎么解锁"): whose, for an
# admin; one's own password is the "我的" page's for anyone else (chat.own_account, as before).
_WHOSE_PATTERNS = (
    ASK + r"(?P<what>重置|重设)(?:一下|下)?(?:一个|别人|别人的|他人的|用户的?|账号的?)?密码$",
    ASK + rf"(?:怎么|如何|怎样)?(?P<what>解锁)(?:一下|下)?(?:一个|某个|别人的|他人的)?(?:{_ACCOUNT}|用户)?$",
)


@intent("account.whose", patterns=_WHOSE_PATTERNS, priority=9)  # before chat.own_account
async def account_whose(turn: Turn) -> ChatReply:
    unlock = turn.params.get("what") == "解锁"
    if not allows(turn.actor.role, "accounts.manage"):
        if unlock:
            return not_allowed_reply("accounts.manage")
        own = registry.get("chat.own_account")
        assert own is not None
        return await own.handler(turn)
    text = msg.CHAT_ASK_WHOSE_UNLOCK if unlock else msg.CHAT_ASK_WHOSE_RESET
    return ChatReply(blocks=[NoticeBlock(level="info", text=text)], suggestions=default_suggestions())


_CHANGE = r"(?:改成|改为|换成|设为|设成|设置为|调整为|调成|变成|更改为|修改为|升为|降为|升级为|降级为|升成|降成)"
_ROLE_PATTERNS = (
    # "把侯国梅改成查看员", "侯国梅的角色改成管理员"
    # (a name holds no 的: "…合作社的联系人改成…" is a co-op card's)
    ASK + rf"(?:把|将|给)?{_NOT_ME}(?P<name>[^的]{{1,20}}?)(?:的角色|的权限|的身份)?{_CHANGE}{_ROLE}$",
    ASK + rf"(?:让|叫){_NOT_ME}(?P<name>.{{1,20}}?)(?:当|做|担任){_ROLE}$",
)


@intent(
    "account.role",
    patterns=_ROLE_PATTERNS,
    permission="accounts.manage",
    priority=19,
    subject="name",
    subject_people=True,
    kept=("role",),
)
async def account_role(turn: Turn) -> ChatReply:
    """Typed: the person's card with a confirm-first button per unit that gives the role asked
    (``account.set_role``: the API's membership set); typing alone changes nothing."""
    wanted = _role_param(turn.params)
    if wanted is None:
        raise AppError("bad_param", msg.CHAT_BAD_PARAM)
    changing = await _person_to_change(turn, "account.role")
    if isinstance(changing, ChatReply):
        return changing
    person, held = changing
    label = ROLE_LABELS[wanted]
    several = len(held) > 1
    buttons = []
    for h in held:
        if h.role == wanted.value or not actions.may_assign_at(turn.actor, h.unit_id, h.unit_path, wanted):
            continue
        text = msg.CHAT_BUTTON_SET_ROLE_IN if several else msg.CHAT_BUTTON_SET_ROLE
        confirm = msg.CHAT_CONFIRM_SET_ROLE.format(name=person.name, unit=h.unit_name, role=label)
        params = {"account_id": person.id, "unit_id": h.unit_id, "role": wanted.value}
        buttons.append(
            Action(
                label=text.format(unit=h.unit_name, role=label),
                intent="account.set_role",
                params=params,
                style="primary",
                confirm=confirm,
            )
        )
    if buttons:
        lead = NoticeBlock(level="info", text=msg.CHAT_ROLE_HOW.format(name=person.name, role=label))
    elif all(h.role == wanted.value for h in held):
        units = "、".join(h.unit_name for h in held)
        lead = NoticeBlock(level="info", text=msg.CHAT_ROLE_SAME.format(name=person.name, unit=units, role=label))
    else:
        lead = NoticeBlock(level="warning", text=msg.CHAT_ROLE_NOT_GIVEN_HERE.format(name=person.name, role=label))
    return await person_reply(turn, person.id, lead=lead, extra=tuple(buttons))


_FINANCE_WORD = r"财务(?:查看)?权限"
_FINANCE_PATTERNS = (
    # "给侯国梅财务权限", "给侯国梅开通财务权限", "取消侯国梅的财务权限", "侯国梅的财务权限改成全部"
    ASK
    + rf"(?:给|为|帮){_NOT_ME}(?P<name>.{{1,20}}?)(?:开通?|加上?|增加|设置|分配|开放|授予)?(?:一下)?{_FINANCE_WORD}$",
    ASK + rf"(?:取消|收回|去掉|关闭|关掉){_NOT_ME}(?P<name>.{{1,20}}?)的{_FINANCE_WORD}$",
    ASK + rf"(?:把|将)?{_NOT_ME}(?P<name>.{{1,20}}?)的{_FINANCE_WORD}{_CHANGE}.{{1,8}}$",
)


@intent(
    "account.finance",
    patterns=_FINANCE_PATTERNS,
    permission="accounts.manage",
    priority=19,
    subject="name",
    subject_people=True,
)
async def account_finance(turn: Turn) -> ChatReply:
    """Typed: the person's card with a confirm-first button per unit and finance access the actor
    may give (never more than its own: backend.accounts.actions.may_grant_finance)."""
    changing = await _person_to_change(turn, "account.finance")
    if isinstance(changing, ChatReply):
        return changing
    person, held = changing
    rows = await Membership.filter(account_id=person.id).values_list("unit_id", "finance_access")
    current = {int(unit_id): str(access) for unit_id, access in rows}
    several = len(held) > 1
    buttons = []
    for h in held:
        for access in FinanceAccess:
            if access.value == current.get(h.unit_id) or not actions.may_grant_finance(turn.actor, h.unit_id, access):
                continue
            label = FINANCE_LABELS[access]
            text = msg.CHAT_BUTTON_SET_FINANCE_IN if several else msg.CHAT_BUTTON_SET_FINANCE
            confirm = msg.CHAT_CONFIRM_SET_FINANCE.format(name=person.name, unit=h.unit_name, finance=label)
            params = {"account_id": person.id, "unit_id": h.unit_id, "role": h.role, "finance_access": access.value}
            buttons.append(
                Action(
                    label=text.format(unit=h.unit_name, finance=label),
                    intent="account.set_role",
                    params=params,
                    style="primary",
                    confirm=confirm,
                )
            )
    how = msg.CHAT_FINANCE_HOW if buttons else msg.CHAT_FINANCE_NONE_TO_GIVE
    lead = NoticeBlock(level="info" if buttons else "warning", text=how.format(name=person.name))
    return await person_reply(turn, person.id, lead=lead, extra=tuple(buttons))


@intent("account.set_role", permission="accounts.manage", writes=True)
async def account_set_role(turn: Turn) -> ChatReply:
    """A role or finance button: the API's membership set (backend.accounts.actions.set_membership),
    which checks everything again; the card after."""
    account_id = int_param(turn.params, "account_id")
    unit_id = int_param(turn.params, "unit_id")
    try:
        role = Role(turn.params.get("role"))
        finance_sent = turn.params.get("finance_access")
        finance = None if finance_sent is None else FinanceAccess(finance_sent)
    except ValueError:
        raise AppError("bad_param", msg.CHAT_BAD_PARAM) from None
    if account_id is None or unit_id is None:
        raise AppError("bad_param", msg.CHAT_BAD_PARAM)
    role_before = await Membership.filter(account_id=account_id, unit_id=unit_id).values_list("role", flat=True)
    membership = await actions.set_membership(
        turn.actor, account_id, unit_id=unit_id, role=role, finance_access=finance
    )
    account = await get_account(turn.actor, account_id)
    unit = await get_unit(turn.actor, unit_id)
    # A finance button sends the role the person has: say what changed, not "角色改为" the same role.
    said = msg.CHAT_FINANCE_SET if list(role_before) == [role.value] else msg.CHAT_ROLE_SET
    text = said.format(
        name=account.name,
        unit=unit.name,
        role=ROLE_LABELS[role],
        finance=FINANCE_LABELS[FinanceAccess(membership.finance_access)],
    )
    return await person_reply(turn, account_id, lead=NoticeBlock(level="success", text=text))


_END_SESSIONS_PATTERNS = (
    # "踢侯国梅下线", "把侯国梅踢下线", "让侯国梅重新登录", "结束侯国梅的登录"
    ASK + r"(?:踢|踢掉|踢出)(?P<name>.{1,20}?)(?:下线|出去|出系统)$",  # 踢 alone may begin a name
    ASK + r"(?:把|将)(?P<name>.{1,20}?)(?:踢|踢掉|踢出)(?:下线|出去|出系统)?了?$",
    ASK + _NOT_ME + r"(?:让|叫|强制|要求)(?P<name>.{1,20}?)(?:重新登录|下线|退出登录|强制下线|强制退出)$",
    ASK + r"(?:结束|退出)(?P<name>.{1,20}?)的(?:所有|全部)?(?:登录|会话)$",
    # "侯国梅在哪些设备登录", "侯国梅的登录设备": not shown (P8: only one's own)
    ASK
    + _NOT_ME
    + r"(?P<name>.{1,20}?)(?:在|用)?(?:哪些|哪几个|几个|什么|哪个)(?P<devices>设备|手机|电脑)(?:上)?"
    + r"(?:登录|登着|在线)(?:了|过|着)?$",
    ASK + _NOT_ME + r"(?P<name>.{1,20}?)的登录(?P<devices>设备)$",
)


@intent(
    "account.end_sessions",
    patterns=_END_SESSIONS_PATTERNS,
    permission="accounts.manage",
    priority=19,
    writes=True,
)
async def account_end_sessions(turn: Turn) -> ChatReply:
    """Typed, or a button without ``confirmed``: the card with "退出全部登录" (which asks first)
    where the API would accept it. With ``confirmed``: the API's end of every session of the
    account (backend.accounts.actions.end_sessions). Another's devices are not listed (P8)."""
    if turn.params.get("confirmed") is not True:
        changing = await _person_to_change(turn, "account.end_sessions", card=False)
        if isinstance(changing, ChatReply):
            return changing
        person, _ = changing
        how = msg.CHAT_DEVICES_NOT_SHOWN if turn.params.get("devices") else msg.CHAT_END_SESSIONS_HOW
        end = Action(
            label=msg.CHAT_BUTTON_END_SESSIONS,
            intent="account.end_sessions",
            params={"account_id": person.id, "confirmed": True},
            style="danger",
            confirm=msg.CHAT_CONFIRM_END_SESSIONS.format(name=person.name),
        )
        lead = NoticeBlock(level="info", text=how.format(name=person.name))
        return await person_reply(turn, person.id, lead=lead, extra=(end,))
    account_id = int_param(turn.params, "account_id")
    if account_id is None:
        raise AppError("bad_param", msg.CHAT_BAD_PARAM)
    count = await actions.end_sessions(turn.actor, account_id)
    account = await get_account(turn.actor, account_id)
    lead = NoticeBlock(level="success", text=msg.CHAT_END_SESSIONS_DONE.format(name=account.name, count=count))
    return await person_reply(turn, account_id, lead=lead)


_REACTIVATE = r"(?:恢复|重新启用|启用|重新激活|解除停用|取消停用|恢复使用)"
_REACTIVATE_PATTERNS = (
    # "恢复宋晓平的账号", "启用宋晓平", "把宋晓平的账号恢复"; 恢复 alone begins names too (恢复性种植
    # 合作社): with the word for account only
    ASK + rf"(?:恢复|重新激活|恢复使用)(?P<name>[^的].{{0,19}}?)的?{_ACCOUNT}$",
    ASK + rf"(?:重新启用|启用|解除停用|取消停用)(?P<name>[^的].{{0,19}}?)的?{_ACCOUNT}?$",
    ASK + rf"(?:把|将)(?P<name>.{{1,20}}?)的?{_ACCOUNT}?{_REACTIVATE}(?:一下)?$",
)


@intent(
    "account.reactivate",
    patterns=_REACTIVATE_PATTERNS,
    permission="accounts.manage",
    priority=26,
    subject="name",
    subject_people=True,
)
async def account_reactivate(turn: Turn) -> ChatReply:
    """A deactivated account never comes back (P6: its user name is never issued again): said so,
    with the button to make a new one in its unit; a live one's status otherwise."""
    target = await resolve_person(turn, "account.reactivate")
    if isinstance(target, ChatReply):
        return target
    person, visible, _ = await _person(turn.actor, target)
    if person.is_active:
        lead = NoticeBlock(level="info", text=msg.CHAT_NOT_DEACTIVATED.format(name=person.name))
        return await person_reply(turn, person.id, lead=lead)
    text = msg.CHAT_CANNOT_REACTIVATE.format(name=person.name, username=person.username)
    extra: tuple[Action, ...] = ()
    if allows(turn.actor.role, "accounts.manage"):
        new = Action(label=msg.CHAT_BUTTON_NEW_ACCOUNT, intent="account.form", params={"unit_id": visible[0].unit_id})
        extra = (new,)
    return await person_reply(turn, person.id, lead=NoticeBlock(level="warning", text=text), extra=extra)
