# ruff: noqa: E501  (one template a line, so each Chinese text reads whole)
"""Every SMS the product sends: template ids and their Chinese texts, in one place for review.

The Tencent Cloud console holds one approved template per key, with the same text and numbered
placeholders in reading order (``{code}``, ``{minutes}`` become ``{1}``, ``{2}``); :data:`PARAMS`
gives that order, so a message's parameters become Tencent's ``TemplateParamSet``. Which template
id each key has in the console is a setting (``TENCENT_SMS_TEMPLATE_IDS``).
"""

from __future__ import annotations

import string

TEMPLATES: dict[str, str] = {
    "verification_code": "【村务通】您的验证码为 {code}，{minutes} 分钟内有效。如非本人操作，请忽略本短信。",
    "account_created": "【村务通】您的账号 {username} 已开通，临时密码 {password}，72 小时内有效，仅用于登录后设置您自己的密码，请尽快登录修改。",
    "password_reset": "【村务通】您的账号 {username} 的密码已由管理员重置，临时密码 {password}，72 小时内有效，请尽快登录修改。",
    "review_approved": "【村务通】您提交的人工审核已通过，账号 {username} 的临时密码为 {password}，72 小时内有效，请尽快登录修改。",
    "review_rejected": "【村务通】您提交的人工审核未通过，原因：{reason}。如有疑问请联系上级单位管理员。",
    "agent_added": "【村务通】您已被 {unit} 添加为经办人，账号 {username}，临时密码 {password}，72 小时内有效，请用手机号登录后立即修改。",
    "agent_unit_added": "【村务通】您已被 {unit} 添加为经办人，请用手机号和您现在的密码登录后选择该单位办理业务（尚未修改的临时密码在 72 小时有效期内也可使用）。",
    "unit_recovered": "【村务通】{unit} 的管理员账号 {username} 已交由您管理，临时密码 {password}，72 小时内有效，请登录后立即修改。",
    "password_reset_done": "【村务通】您的账号 {username} 的密码已通过短信验证重置。如非本人操作，请立即联系上级单位管理员。",
    "registration_approved": "【村务通】{unit} 的注册申请已通过审核，请用管理员账号 {username} 登录。",
    "registration_rejected": "【村务通】{unit} 的注册申请未通过审核，原因：{reason}。",
    "phone_changed": "【村务通】您的账号 {username} 绑定的手机号已更换为 {phone}。如非本人操作，请立即联系上级单位管理员。",
    # Appended, never inserted: the development gateway numbers the templates in this order.
    "wechat_bound": "【村务通】您的账号 {username} 已绑定微信，今后可在该微信中一键登录。如非本人操作，请立即联系管理员解除绑定。",
    # A code says what it is for and that it is not to be told (whoever asks for it on the phone,
    # "县里核对账号", is after the account): one approved text per purpose (sms_codes.PURPOSES).
    "code_password_reset": "【村务通】您正在找回账号密码，验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人，工作人员不会索要验证码。",
    "code_username_lookup": "【村务通】您正在找回用户名，验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人，工作人员不会索要验证码。",
    "code_unit_recovery": "【村务通】您正在接管单位管理员账号，验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人，工作人员不会索要验证码。",
    "code_first_login": "【村务通】您正在进行首次登录验证，验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人，工作人员不会索要验证码。",
    "code_phone_change": "【村务通】您正在把账号的手机号换成本号码，验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人，工作人员不会索要验证码。",
    "code_registration": "【村务通】您正在办理单位注册，验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人，工作人员不会索要验证码。",
    "code_agent_login": "【村务通】您正在以经办人身份登录，验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人，工作人员不会索要验证码。",
    "code_wechat_login": "【村务通】您正在把账号绑定到微信，绑定后该微信可一键登录，验证码为 {code}，{minutes} 分钟内有效。请勿告诉他人，工作人员不会索要验证码。",
    # To the previous bound phone when an account is handed over or reset to another phone (R4, R5).
    "account_handed_over": "【村务通】您的账号 {username} 已交由他人管理，绑定的手机号已更换，原密码已失效。如非本人操作，请立即联系上级单位管理员。",
    "password_reset_by_review": "【村务通】您的账号 {username} 的密码已经人工审核重置，临时密码已发给申请人，原密码已失效。如非本人操作，请立即联系上级单位管理员。",
    # An existing person added as an agent whose phone logs in to another account: by user name (R6).
    "agent_unit_added_username": "【村务通】您已被 {unit} 添加为经办人，请用用户名 {username} 和您现在的密码登录后选择该单位办理业务（尚未修改的临时密码在 72 小时有效期内也可使用）。",
    # A registered person's consent to be added as an agent (R6): the code is for the admin who asks, no one else.
    "code_agent_consent": "【村务通】有单位管理员申请将您添加为经办人，验证码为 {code}，{minutes} 分钟内有效。同意请只告诉该管理员，不同意请忽略，请勿告诉他人。",
}

# The code template of each SMS code purpose (backend.core.sms_codes.PURPOSES): "code_<purpose>".
CODE_TEMPLATES: dict[str, str] = {key.removeprefix("code_"): key for key in TEMPLATES if key.startswith("code_")}
# "verification_code" is the one text every code had before: kept for the messages queued with it.
CODE_KEYS = frozenset({"verification_code", *CODE_TEMPLATES.values()})


def code_template(purpose: str) -> str:
    """The template of a code sent for ``purpose``; a purpose without one is a programming error."""
    return CODE_TEMPLATES[purpose]


def is_code_template(template: str) -> bool:
    """Does a message of ``template`` carry a verification code (short-lived, never sent twice)?"""
    return template in CODE_KEYS


def placeholders(text: str) -> tuple[str, ...]:
    """The named placeholders of a text, each once, in reading order."""
    names: list[str] = []
    for _, name, _, _ in string.Formatter().parse(text):
        if name and name not in names:
            names.append(name)
    return tuple(names)


# Parameter order per template: position n is Tencent's placeholder {n+1}.
PARAMS: dict[str, tuple[str, ...]] = {key: placeholders(text) for key, text in TEMPLATES.items()}


def render(template: str, params: dict[str, str]) -> str:
    return TEMPLATES[template].format(**params)


def ordered_params(template: str, params: dict[str, str]) -> list[str]:
    """The parameters as Tencent's ``TemplateParamSet``: strings, in the template's order."""
    return [str(params[name]) for name in PARAMS[template]]


def console_text(template: str) -> str:
    """The text as registered in the Tencent console: no 【sign】 (the gateway adds the sign name), ``{n}``."""
    text = TEMPLATES[template]
    if text.startswith("【"):
        text = text[text.index("】") + 1 :]
    for position, name in enumerate(PARAMS[template], start=1):
        text = text.replace("{" + name + "}", "{" + str(position) + "}")
    return text
