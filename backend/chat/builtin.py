"""Intents of the chat itself: help, and an answer to thanks."""

from __future__ import annotations

from backend.chat import messages as msg
from backend.chat.parser import ASK
from backend.chat.protocol import ChatReply, NoticeBlock
from backend.chat.registry import Turn, intent
from backend.chat.service import said, suggestions


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
    return said(msg.HELP)


_THANKS = r"(?:谢谢|谢谢你|谢谢您|谢了|多谢|感谢|辛苦了|好的|好|好嘞|收到|知道了|明白了|嗯+|ok|okay|thanks|thank you)"


# "谢谢" or "好的" after an answer ends a question ("好的，谢谢" too); looked up as a name it found the
# nearest person.
@intent(
    "chat.thanks",
    patterns=(rf"(?i)^{_THANKS}(?:[,\s]*{_THANKS})*$",),
    priority=10,
)
async def chat_thanks(turn: Turn) -> ChatReply:
    return said(msg.THANKS)


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
