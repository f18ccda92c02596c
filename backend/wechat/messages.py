"""Chinese texts of WeChat login, binding and the WeChat API errors."""

# What the mini-program shows when wx.login found no bound account.
BIND_REQUIRED = "首次使用微信登录，请用账号密码或手机验证码登录一次，以绑定这个微信"
# ... when the WeChat is still bound to an account that was deactivated since.
ACCOUNT_DEACTIVATED = (
    "这个微信绑定的账号已停用，不能再登录。如您有新的账号，请用它的账号密码或手机验证码登录一次，以绑定这个微信"
)

# Binding and unbinding
ACCOUNT_HAS_OTHER_WECHAT = "该账号已绑定其他微信，请先用账号密码登录并在“我的”中解除绑定"
WECHAT_HAS_OTHER_ACCOUNT = "这个微信已绑定其他账号，请先登录那个账号并解除绑定"
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
