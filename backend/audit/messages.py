"""What the audit log's readers see, in Chinese (the chat's answers about it)."""

from __future__ import annotations

# What each recorded action is called; an action not named here shows its code.
ACTION_LABELS = {
    "auth.login": "登录",
    "auth.change_password": "修改密码",
    "auth.choose_unit": "选择单位",
    "auth.first_login_sms": "首次登录短信验证",
    "auth.logout": "退出登录",
    "auth.end_session": "结束登录设备",
    "account.create": "新建账号",
    "account.update": "修改账号",
    "account.reset_password": "重置密码",
    "account.unlock": "解除锁定",
    "account.deactivate": "停用账号",
    "account.activate": "激活账号",
    "account.reveal": "查看完整号码",
    "account.end_sessions": "结束登录设备",
    "membership.set": "设置单位角色",
    "membership.remove": "移出单位",
    "profile.update": "修改个人信息",
    "profile.phone_change": "换绑手机",
    "profile.realname": "实名认证",
    "profile.phone_login": "设置手机号登录",
    "wechat.bind": "绑定微信",
    "wechat.unbind": "解绑微信",
    "wechat.sms_send_code": "微信登录发送验证码",
    "card.bind": "绑定IC卡",
    "card.unbind": "解绑IC卡",
    "coop.card.create": "录入信息卡",
    "coop.card.update": "修改信息卡",
    "coop.card.delete": "删除信息卡",
    "device.enrol": "登记电脑",
    "device.revoke": "停用电脑",
    "unit.create": "新建单位",
    "unit.update": "修改单位",
    "unit.delete": "删除单位",
    "unit.move": "调整隶属",
    "agent.add": "添加经办人",
    "agent.add_asked": "申请添加经办人（已发验证码）",
    "review.expire": "人工审核超期自动关闭",
    "agent.unbind": "解绑经办人",
    "recovery.password_start": "找回密码：开始",
    "recovery.password_send_code": "找回密码：发送验证码",
    "recovery.password_code": "找回密码：验证码",
    "recovery.password_verify": "找回密码：身份核验",
    "recovery.password_reset": "找回密码",
    "recovery.username_lookup": "找回用户名",
    "recovery.username_send_code": "找回用户名：发送验证码",
    "recovery.username_identify": "找回用户名：身份核验",
    "recovery.username_code": "找回用户名：验证码",
    "recovery.unit_start": "找回单位账号：开始",
    "sms.requeue": "重新发送失败的短信",
    "recovery.unit_identify": "找回单位账号：身份核验",
    "recovery.unit_code": "找回单位账号：验证码",
    "recovery.unit_account": "找回单位账号",
    "registration.submit": "提交注册",
    "registration.approve": "通过注册",
    "registration.reject": "驳回注册",
    "review.submit": "提交人工审核",
    "review.view": "查看审核申请",
    "review.image": "查看审核图片",
    "review.approve": "通过审核",
    "review.reject": "驳回审核",
    "review.images_removed": "审核图片到期删除",
}
OUTCOMES = {"success": "成功", "failure": "失败"}

CHAT_TITLE = "操作记录"
CHAT_TITLE_LOGINS = "登录记录"
CHAT_TITLE_FAILED_LOGINS = "登录失败记录"
CHAT_OF = "{name}{when}的{what}"
DAYS_REVERSED = "结束日期不能早于开始日期"
CHAT_WHEN = "{when}的{what}"
CHAT_BAD_DAY = "没有这样的日期，请换个说法，比如“昨天的操作记录”“12月1日的操作记录”“最近7天的操作记录”。"
CHAT_BAD_PARAM = "参数不正确，请重新选择。"
CHAT_COLUMNS = ["时间", "操作", "操作人", "结果"]
CHAT_NONE = "没有{title}。"
CHAT_NO_MORE = "没有更多记录了。"
CHAT_SOMEONE = "—"  # no account (a failed login under an unknown name)
CHAT_ABOVE = "上级单位人员"  # an account of a unit above the reader's: not named
CHAT_ELSEWHERE = "辖区外人员"  # any other account outside the scope (moved away, say): not named
BUTTON_MORE = "更多"
# "今天有几个人登录": people with a successful login in scope on those days, and the logins in all.
CHAT_LOGIN_COUNT = "{when}有 {people} 人登录（共 {times} 次）。"
CHAT_LOGIN_COUNT_NONE = "{when}没有人登录。"
BUTTON_LOGINS = "查看登录记录"
