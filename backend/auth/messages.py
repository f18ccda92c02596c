"""Chinese texts of login, sessions and password change."""

LOGIN_FAILED = "用户名或密码错误"  # also for locked and deactivated accounts: no hint which
LOGIN_THROTTLED = "登录尝试过于频繁，请稍后再试"
OLD_PASSWORD_WRONG = "原密码不正确"
SAME_PASSWORD = "新密码不能与原密码相同"
PASSWORD_NOT_SET = "账号还没有登录密码，没有原密码可改：请在“我的”页面点“设置密码”"
NOT_YOUR_UNIT = "您不属于这个单位"
SESSION_NOT_FOUND = "没有找到这个登录会话"
