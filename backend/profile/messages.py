"""Chinese texts of the own profile, bound phone change and first-login check."""

PASSWORD_WRONG = "登录密码不正确"
SAME_PHONE = "新手机号与当前绑定的手机号相同"
BAD_ID_FOR_TYPE = "证件号码格式不正确"
BAD_VALID_UNTIL = "证件有效期应为 8 位日期（如 20301231），长期有效填 00000000"
BAD_EMAIL = "电子邮箱格式不正确"
NO_PHONE = "账号没有绑定手机号，请联系管理员"
NOT_NEEDED = "无需进行首次登录短信验证"
