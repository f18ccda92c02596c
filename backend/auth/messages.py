"""Chinese texts of login, sessions and password change."""

LOGIN_FAILED = "用户名或密码错误"  # also for locked and deactivated accounts: no hint which
LOGIN_THROTTLED_FOR = "登录尝试过于频繁，请 {minutes} 分钟后再试"
# A password change or a phone change after REAUTH_LIMIT wrong passwords (the right one waits too).
PASSWORD_TRIES_USED_UP = "密码输错次数过多，请 {minutes} 分钟后再试"
# A right temporary password older than its hours (backend.auth.actions.TEMPORARY_PASSWORD_HOURS).
TEMPORARY_PASSWORD_EXPIRED = (
    "临时密码已过期（有效期 {hours} 小时），不能再用来登录。请联系单位管理员重置密码，"
    "或在登录页点“忘记密码”，用绑定手机收到的验证码找回"
)
OLD_PASSWORD_WRONG = "原密码不正确"
SAME_PASSWORD = "新密码不能与原密码相同"
PASSWORD_NOT_SET = "账号还没有登录密码，没有原密码可改：请在“我的”页面点“设置密码”"
NOT_YOUR_UNIT = "您不属于这个单位"
SESSION_NOT_FOUND = "没有找到这个登录会话"
