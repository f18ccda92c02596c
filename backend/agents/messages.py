"""Chinese texts of the agent domain (R6)."""

NAME_REQUIRED_FOR_NEW = "该手机号尚未注册，请填写经办人姓名以便开通账号"
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
AGENT_CHANGED = "在您确认前，此人在其他单位的绑定已被解除，解绑后将没有任何单位。请重新发起解绑，看过提示后再确认"
