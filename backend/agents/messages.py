"""Chinese texts of the agent domain (R6)."""

NAME_MISMATCH = (
    "该手机号已被另一位用户注册，与您填写的姓名不一致，请核对手机号；如确是此人，请让其核对本人在系统中登记的姓名"
)
AGENT_EXISTS = "此人已是本单位的经办人"
NOT_SELF = "不能把自己添加为经办人或解绑自己"
ROLE_TOO_HIGH = "不能授予高于自己权限的角色"
CANNOT_UNBIND = "您不能解绑这位经办人（其角色不低于您在该单位的权限）"
NOT_AN_AGENT = "此人不是该单位的经办人"
BUSY = "有人同时在办理同一手机号，请稍后重试"
UNBIND_SUMMARY = (
    "将解除 {name}（账号 {username}）与“{unit}”的经办人绑定。账号本身保留，其正在为该单位办理业务的登录会被结束。"
)
UNBIND_LAST_UNIT = "这是此人所属的最后一个单位：解绑后账号仍在，但登录后没有可选择的单位。"
DEACTIVATED = "此人的账号已停用：停用的账号要保留所属单位，以备查询和审计，不能解绑"
SAME_ID_NUMBER = (
    "填写的身份证号已属于本单位的经办人（账号 {username}），不能重复添加；如此人换了手机号，请修改该账号的手机号"
)
SUPERIOR = "此人是您的上级单位管理员或系统管理员，不能添加为您的经办人"
CONSENT_ASKED = (
    "此人已有账号，须经本人同意才能加入本单位。验证码已发到其绑定的手机 {phone}（{minutes} 分钟内有效）："
    "请此人同意后把验证码告诉您，填入后即加入。"
)
AGENT_CHANGED = "在您确认前，此人在其他单位的绑定已被解除，解绑后将没有任何单位。请重新发起解绑，看过提示后再确认"

# Chat (backend.agents.chat)
CHAT_TITLE = "{unit}的经办人"
CHAT_COLUMNS = ["姓名", "用户名", "手机", "角色"]
CHAT_NONE = "{unit}还没有经办人。"
CHAT_NO_MORE = "没有更多了。"
CHAT_NO_PHONE = "—"
CHAT_DEACTIVATED = "（已停用）"
CHAT_BUTTON_ADD = "添加经办人"
CHAT_BUTTON_UNBIND = "解除绑定"
CHAT_BUTTON_CONFIRM = "确认解除"
CHAT_BUTTON_MORE = "更多"
CHAT_CONFIRM_TITLE = "解除经办人绑定"
CHAT_FORM_TITLE = "添加经办人：{unit}"
CHAT_FORM_HINT = (
    "请填写经办人的手机号和姓名：已注册的手机号核对姓名后，须经本人同意（短信验证码）才加入本单位；"
    "新手机号会开通账号，临时密码发到这个手机。"
)
CHAT_FIELD_PHONE = "手机号"
CHAT_FIELD_NAME = "姓名"
CHAT_FIELD_ID_NUMBER = "身份证号（可不填）"
CHAT_FIELD_ROLE = "角色"
CHAT_CODE_TITLE = "确认添加经办人：{unit}"
CHAT_FIELD_CODE = "短信验证码"
CHAT_BUTTON_CONFIRM_ADD = "确认添加"
CHAT_ADDED_NEW = "已为 {name} 开通账号 {username} 并加入“{unit}”，临时密码已通过短信发送。"
CHAT_ADDED_EXISTING = "{name}（账号 {username}）已加入“{unit}”，已短信通知。"
CHAT_UNBOUND = "已解除绑定。"
CHAT_BAD_PARAM = "参数不正确，请重新选择。"
