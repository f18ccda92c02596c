"""Intents of the chat itself: help (what the asker's role may do), an answer to thanks, one's own
account and unit (in "我的")."""

from __future__ import annotations

import re
from dataclasses import replace

from backend.accounts.chat import lookup_name
from backend.accounts.models import Membership
from backend.chat import messages as msg
from backend.chat import parser
from backend.chat.parser import ASK
from backend.chat.protocol import ChatReply, NoticeBlock
from backend.chat.registry import Turn, answers_names, intent
from backend.chat.service import said, suggestions
from backend.core.actor import Actor
from backend.core.roles import Role, allows


# Matched after normalising (parser.normalise): "？" has become "?", and phones capitalise "Help".
# A greeting gets the same answer (it was looked up as a name, and offered the nearest person's).
@intent(
    "chat.help",
    patterns=(
        r"(?i)^(?:帮助|help|\?|怎么用|能做什么|你能做什么|你好|您好|hello|hi|在吗)$",
        # "我能做什么", "你可以干啥", "有哪些功能", "怎么使用": looked up as names
        r"^(?:我|你|这里|这个)?都?(?:能|可以)(?:做|干|查)(?:什么|啥|哪些)(?:呢|啊)?\??$",
        r"^(?:有|都有)(?:什么|哪些)功能(?:呢|啊)?\??$",
        r"^(?:怎么|如何|怎样)使用(?:呢|啊)?\??$|^使用(?:说明|帮助|方法)$",
    ),
    priority=10,
)
async def chat_help(turn: Turn) -> ChatReply:
    return said(help_text(turn.actor.role))


def help_text(role: Role | str) -> str:
    """The help for ``role``: only the lines of what it may do (a viewer was shown 操作记录, 新建账号)."""
    lines = [text for needs, text in msg.HELP_LINES if needs is None or allows(role, needs)]
    return "\n".join([msg.HELP_INTRO, *lines])


_THANKS_WORDS = r"(?:谢谢|谢谢你|谢谢您|谢了|多谢|感谢|辛苦了|thanks|thank you)"
# 嗯 once: the pattern repeats it ("嗯嗯"); 嗯+ inside the repeated group backtracked exponentially
_THANKS = rf"(?:{_THANKS_WORDS}|好的|好|好嘞|收到|知道了|明白了|嗯|ok|okay)"
_THANKED = re.compile(rf"(?i){_THANKS_WORDS}")


# "谢谢" or "好的" after an answer ends a question ("好的，谢谢" too); looked up as a name it found the
# nearest person. Thanks are answered "不客气"; "好的", "嗯嗯" thank no one: "好的".
@intent(
    "chat.thanks",
    patterns=(rf"(?i)^{_THANKS}(?:[,\s]*{_THANKS})*$",),
    priority=10,
)
async def chat_thanks(turn: Turn) -> ChatReply:
    return said(msg.THANKS if _THANKED.search(parser.normalise(turn.text or "")) else msg.NOTED)


# One's own account is the "我的" page's, not the chat's: "修改密码" was looked up as a name. Only the
# whole text (someone else's: "重置王建国的密码", backend.accounts.chat).
_OWN = r"(?:我的|自己的|本人)?"
_WANT = r"(?:我要|我想|我想要|怎么|如何|怎样|在哪里?|哪里可以|帮我)?"


@intent(
    "chat.own_account",
    patterns=(
        rf"^{_WANT}(?:修改|更改|改|更换|换|设置|重置|重设)(?:一下|下)?{_OWN}(?:登录)?密码(?:呢|吗)?\??$",
        rf"^{_WANT}(?:退出|退出登录|登出|注销登录|切换账号|换个账号)\??$",
        rf"^{_WANT}(?:修改|更改|更换|换|换绑|绑定){_OWN}(?:手机|手机号|手机号码|电话|电话号码)\??$",
        rf"^{_WANT}(?:绑定|解绑|解除绑定){_OWN}微信\??$",
        # one's own details ("修改我的信息", "完善个人资料"): not a co-op's card
        rf"^{_WANT}(?:修改|更改|完善|更新|编辑|填写)(?:我的|我自己的|本人的|自己的)?(?:个人)?(?:信息|资料)\??$",
        r"^(?:我是谁|我的(?:账号|账户|帐号|信息|资料|个人信息)|个人信息|个人资料|登录设备|我的登录设备)\??$",
    ),
    priority=10,
)
async def own_account(turn: Turn) -> ChatReply:
    return said(msg.OWN_ACCOUNT)


# The unit a session works for is chosen in "我的" ("切换单位", backend.auth.routes.choose_unit), not
# in chat: the mini-program keeps the chosen unit, its role and a conversation per unit, which a
# switch made by a chat turn would leave behind. "切换单位" and "换到张家冲村" were looked up as names.
_SWITCH = r"(?:切换|更换|换|转换|转|调换)(?:一下|下)?"


@intent(
    "chat.switch_unit",
    patterns=(
        rf"^{_WANT}{_SWITCH}(?:个|到)?(?:别的|其他的?|另一个|另外一个|另外的?)?(?:单位|村|乡镇|镇|乡|社区)\??$",
        rf"^{_WANT}{_SWITCH}(?:到|去)(?P<name>[^的\s,?]{{2,30}}?)去?\??$",  # "换到张家冲村"
    ),
    priority=10,
)
async def switch_unit(turn: Turn) -> ChatReply:
    """The account's units and where to switch; a unit named: how to get there if the account holds
    it, else the name looked up (a unit in scope: its card)."""
    held = await _units_held(turn.actor)
    current = next((m.unit.name for m in held if m.id == turn.actor.membership_id), "")
    name = str(turn.params.get("name") or "").strip()
    if name:
        named = _held_named(held, name)
        if named is None:
            turn.context.asking(parser.LOOKUP_NAME)
            return await lookup_name(replace(turn, params={"name": name}))
        if named.id == turn.actor.membership_id:
            return said(msg.SWITCH_HERE.format(name=named.unit.name))
        return said(msg.SWITCH_TO.format(name=named.unit.name))
    if len(held) < 2:
        return said(msg.SWITCH_ONLY_ONE.format(name=current))
    units = msg.SWITCH_SEPARATOR.join(
        msg.SWITCH_CURRENT.format(name=m.unit.name) if m.id == turn.actor.membership_id else m.unit.name for m in held
    )
    return said(msg.SWITCH_UNITS.format(count=len(held), units=units))


async def _units_held(actor: Actor) -> list[Membership]:
    """The account's memberships with their units, as the unit choice lists them."""
    return await Membership.filter(account_id=actor.account_id).select_related("unit").order_by("id")


def _held_named(held: list[Membership], name: str) -> Membership | None:
    """The membership whose unit ``name`` names: the unit's whole name, else the one that begins so
    ("张家冲" for 张家冲村); None for none, or for several."""
    exact = [m for m in held if m.unit.name == name]
    begins = exact or [m for m in held if m.unit.name.startswith(name)]
    return begins[0] if len(begins) == 1 else None


async def held_elsewhere(actor: Actor, name: str) -> str | None:
    """What to say of a unit name that found nothing in scope but names another unit the account
    holds ("张家冲村" typed while working for 李家坪村): it is theirs, and where to switch to it. For
    every answer that says a unit was not found (the name lookup below; a summary's is
    backend.coops.chat)."""
    if len(name) < 2:
        return None
    held = await _units_held(actor)
    named = _held_named(held, name)
    if named is None or named.id == actor.membership_id:
        return None
    current = next((m.unit.name for m in held if m.id == actor.membership_id), "")
    return msg.HELD_ELSEWHERE.format(name=named.unit.name, unit=current)


@answers_names
async def _held_unit_named(turn: Turn, name: str) -> ChatReply | None:
    """A bare name that is no unit's or person's in scope, but another unit's of the account."""
    text = await held_elsewhere(turn.actor, name)
    if text is None:
        return None
    return ChatReply(blocks=[NoticeBlock(level="info", text=text)], suggestions=suggestions())


# A forgotten password is not changed in "我的" (that asks for it): the way back starts at the login
# page. "忘记密码怎么办" was looked up as a name.
_HOW = r"(?:怎么办|咋办|怎么弄|怎么找回|怎么处理)?"


@intent(
    "chat.forgot_password",
    patterns=(
        rf"^{_WANT}我?(?:忘记|忘了){_OWN}(?:登录)?密码了?{_HOW}\??$",
        rf"^{_WANT}找回{_OWN}(?:登录)?密码{_HOW}\??$",
        rf"^{_OWN}(?:登录)?密码(?:忘记|忘了)了?{_HOW}\??$",
    ),
    priority=10,
)
async def forgot_password(turn: Turn) -> ChatReply:
    return said(msg.FORGOT_PASSWORD)


# What the product does not do yet, asked in chat ("导出汇总表", "最新通知"): said so, not looked up
# as a name ("没有找到名为“导出”的单位"), nor as the summary ("导出汇总表").
# Not in a change typed ("…的经营范围改成打印复印服务") nor a name ("…打印服务合作社").
_NOT_A_CHANGE_OR_NAME = r"^(?!.*(?:改成|改为|换成|更新为|修改为|变成|更改为))(?!.*(?:合作社|社|部|店)$).*?"


@intent("chat.no_export", patterns=(_NOT_A_CHANGE_OR_NAME + r"(?i:导出|下载|打印|excel|表格文件)",), priority=12)
async def no_export(turn: Turn) -> ChatReply:
    return said(msg.NO_EXPORT)


@intent("chat.no_notices", patterns=(_NOT_A_CHANGE_OR_NAME + r"(?:通知|公告)",), priority=12)
async def no_notices(turn: Turn) -> ChatReply:
    return said(msg.NO_NOTICES)


# A number copied from a card, masked as shown ("139****0001", "1101**********002X"): it finds no one,
# and looked up as a name it was "没有找到", which did not say why.
@intent(
    "chat.masked_number",
    patterns=(ASK + r"(?:1[3-9][0-9]\*{4}[0-9]{4}|[0-9]{4}\*{7,11}[0-9]{3}[0-9Xx])(?:是谁|是哪位|是谁的)?$",),
    priority=10,
)
async def masked_number(turn: Turn) -> ChatReply:
    return ChatReply(blocks=[NoticeBlock(level="info", text=msg.MASKED_NUMBER)], suggestions=suggestions())
