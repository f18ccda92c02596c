"""Chinese texts of WeChat login, binding and the WeChat API errors."""

# What the mini-program shows when wx.login found no bound account.
BIND_REQUIRED = "首次使用微信登录，请用账号密码或手机验证码登录一次，以绑定这个微信"
# ... when the WeChat is still bound to an account that was deactivated since.
ACCOUNT_DEACTIVATED = (
    "这个微信绑定的账号已停用，不能再登录。如您有新的账号，请用它的账号密码或手机验证码登录一次，以绑定这个微信"
)

# ... when its binding was removed since (backend.wechat.releases): why, and how to bind it again.
RELEASED_BY_ADMIN_RESET = (
    "您账号的密码已由管理员重置，这个微信的绑定也随之解除。请用短信收到的临时密码登录一次，以重新绑定这个微信"
)
RELEASED_BY_SELF_RESET = "您账号的密码已重置，这个微信的绑定也随之解除。请用新密码登录一次，以重新绑定这个微信"
RELEASED_BY_UNBIND = "这个微信已解除绑定。如需继续用微信登录，请用账号密码或手机验证码登录一次，以重新绑定这个微信"
RELEASED_BY_REVIEW_RESET = (
    "您账号的密码已通过人工审核重置，这个微信的绑定也随之解除。请用短信收到的临时密码登录一次，以重新绑定这个微信"
)
RELEASED_BY_HAND_OVER = (
    "这个微信原来绑定的账号已交给新的负责人使用，不能再用这个微信登录；如有疑问，请联系上级单位管理员"
)
RELEASED_BY_PASSWORD_CHANGE = (
    "这个账号在别处修改了密码，这个微信的绑定也随之解除。请用新密码登录一次，以重新绑定这个微信"
)
RELEASED_BY_ADMIN_UNBIND = (
    "管理员已解除这个微信与您账号的绑定。如需继续用微信登录，请用账号密码或手机验证码登录一次，以重新绑定这个微信"
)

# Binding and unbinding. A refusal after the password or the code was right says what to do next.
ACCOUNT_HAS_OTHER_WECHAT = (
    "该账号已绑定另一个微信，这个微信未能绑定，本次也未登录。"
    "如要改用这个微信：请直接用账号密码登录，在“我的”中对原来的微信解除绑定，再点击“微信一键登录”"
)
WECHAT_HAS_OTHER_ACCOUNT = (
    "这个微信已绑定另一个账号，不能再绑定本账号，本次也未登录。"
    "点击“微信一键登录”会进入那个账号；如要改绑，请在那个账号的“我的”中解除绑定后再试"
)
BIND_EXPIRED = "微信绑定已超时，请重新点击“微信一键登录”"
ACCOUNT_LOCKED = "该账号因连续输错密码已锁定，约 {minutes} 分钟后自动解锁，届时再绑定微信；急用请联系单位管理员解锁"
NOT_BOUND = "您的账号尚未绑定微信"
SMS_LOGIN_FAILED = "手机号或验证码不正确"
PHONE_NOT_MAINLAND = "暂只支持中国大陆手机号"

# WeChat API errors, by what the user can do about them
CODE_INVALID = "微信登录凭证无效或已过期，请重新进入小程序再试"
CODE_USED = "微信登录凭证已使用过，请重新进入小程序再试"
PHONE_CODE_INVALID = "获取手机号的凭证无效或已过期，请重新点击获取手机号"
RATE_LIMITED = "微信接口调用太频繁，请稍后再试"
QUOTA_EXHAUSTED = "微信接口今日的调用次数已用完，请明天再试；现在可使用账号密码登录，或手动填写手机号"
BUSY = "微信服务繁忙，请稍后再试"
UNAVAILABLE = "暂时无法连接微信服务，请稍后再试或使用账号密码登录"
MISCONFIGURED = "微信登录暂不可用，请使用账号密码登录"
DISABLED = "本系统未开通微信登录，请使用账号密码登录"
USER_BLOCKED = "该微信账号存在风险，暂不能用于登录"
