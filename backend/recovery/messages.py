"""Chinese texts of the recovery flows."""

IDENTITY_MISMATCH = "身份信息与登记的不一致；如确认无误，可申请人工审核"
NO_IDENTITY_ON_FILE = "该账号没有登记身份证件，无法自动核验，请申请人工审核"
TOO_MANY_MISMATCHES = "身份核验失败次数过多，请重新开始或申请人工审核"
UNIT_TRIES_USED_UP = "该单位今天的身份核验次数已达上限，请明天再试，或申请人工审核"
UNIT_CODE_REQUIRED = "请填写统一社会信用代码或组织机构代码（二选一）"
SAME_PASSWORD = "新密码不能与原密码相同"
PASSWORD_ALREADY_RESET = "密码已经重置成功，请用新密码登录"
UNIT_ALREADY_RECOVERED = "该单位的账号已经找回，用户名和临时密码已通过短信发给新经办人，请查收短信后登录"
UNIT_GONE = "该单位已从系统中删除，无法再找回它的账号；如需继续使用，请重新办理单位登记"
UNIT_ADMIN_CHANGED = (
    "该单位的管理员账号刚被同时办理的另一项操作开通或变更，本次找回未做任何更改；如仍需找回，请重新开始"
)
