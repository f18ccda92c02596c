"""Every SMS the product sends: template ids and their Chinese texts, in one place for review."""

from __future__ import annotations

TEMPLATES: dict[str, str] = {
    "account_created": "【村务通】您的账号 {username} 已开通，临时密码 {password}，仅可使用一次，请登录后立即修改。",
    "password_reset": "【村务通】您的账号 {username} 的密码已由管理员重置，临时密码 {password}，请登录后立即修改。",
}


def render(template: str, params: dict[str, str]) -> str:
    return TEMPLATES[template].format(**params)
