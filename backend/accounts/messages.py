"""Chinese texts of the account domain."""

USERNAME_TAKEN = "该用户名已被使用（已停用账号的用户名也不会再分配）"
PHONE_LOGIN_TAKEN = "该手机号已用于另一个账号的手机号登录"
ROLE_TOO_HIGH = "不能授予高于自己权限的角色"
FINANCE_TOO_HIGH = "不能授予超出自己范围的财务查看权限"
PHONE_OF_HIGHER_FINANCE = "该账号的财务查看权限超出您的范围，不能修改它绑定的手机号；请联系有相应权限的上级管理员"
CANNOT_MANAGE = "您不能管理这个账号"
NOT_SELF = "不能对自己的账号进行此操作，请使用个人设置"
ALREADY_DEACTIVATED = "该账号已停用"
NOT_LOCKED = "该账号未被锁定"
NO_SUCH_FIELD_VALUE = "该账号没有填写此项"
REVEAL_BEYOND_SCOPE = "该账号也在您管辖范围以外的单位任职，不能查看其完整的个人信息"
REVEAL_ABOVE_LEVEL = "该账号的角色高于您的角色，不能查看其完整的个人信息"
NO_PHONE_FOR_RESET = "该账号没有绑定手机号，临时密码无法通过短信发送；请先为它填写手机号"
MEMBERSHIP_EXISTS = "该账号已在这个单位中"
MEMBERSHIP_REMOVED = "该账号刚刚已被移出这个单位，角色没有修改；如仍需要，请重新把它加入这个单位"
NOT_A_MEMBER = "该账号不在这个单位中"
LAST_MEMBERSHIP = "账号至少要属于一个单位；如不再使用，请停用账号"
PASSWORD_REJECTED = "新密码不符合要求"

# Chat (W2, W3): person cards, members of a unit, account status and the admin buttons.
CHAT_FIELD_USERNAME = "用户名"
CHAT_FIELD_PHONE = "手机"
CHAT_FIELD_UNITS = "单位与角色"
CHAT_FIELD_STATUS = "账号状态"
CHAT_STATUS_ACTIVE = "正常"
CHAT_STATUS_LOCKED = "已锁定，约 {minutes} 分钟后自动解锁"
CHAT_STATUS_DEACTIVATED = "已停用"
CHAT_STATUS_MUST_CHANGE = "正常（尚未修改临时密码）"
CHAT_LOCKED = "{name}的账号已锁定（连续输错密码），约 {minutes} 分钟后自动解锁。"
CHAT_NOT_LOCKED = "{name}的账号没有锁定。"
CHAT_DEACTIVATED = "{name}的账号已停用。"
CHAT_BUTTON_RESET = "重置密码"
CHAT_CONFIRM_RESET = "确定为{name}重置密码吗？新的临时密码会以短信发到 {phone}，TA 所有的登录都将退出。"
CHAT_BUTTON_UNLOCK = "解锁"
CHAT_CONFIRM_UNLOCK = "确定解锁{name}的账号吗？"
CHAT_RESET_DONE = "已为{name}重置密码，临时密码已通过短信发到 {phone}。"
CHAT_UNLOCK_DONE = "{name}的账号已解锁。"
CHAT_PERSON_NOT_FOUND = "没有找到这个人，或者不在您的管辖范围内。"
CHAT_ID_NUMBER_MISTYPED = "这个身份证号码的最后一位（校验位）对不上，可能有数字输错了，请核对后重新输入。"
CHAT_ID_NUMBER_BAD_BIRTH_DATE = "这个身份证号码中的出生日期（第 7-14 位）不是有效日期，可能输错了，请核对后重新输入。"
CHAT_CHOOSE_PERSON = "有 {count} 个人符合“{name}”，请选择："
CHAT_MEMBERS_TITLE = "{name}的人员"
CHAT_MEMBERS_COLUMNS = ("姓名", "用户名", "角色", "状态")
CHAT_ME = (
    "您当前在{unit}，角色是{role}，财务权限：{finance}；能查看{unit}及下级单位。修改密码、换绑手机等在“我的”里办理。"
)
CHAT_WHOLE_AREA = "{name}及下级单位"  # "全镇的录入员": every unit below too
CHAT_WHOLE_MEMBERS_COLUMNS = ("姓名", "用户名", "单位·角色", "状态")
CHAT_NO_MEMBERS = "{name}还没有人员。"
CHAT_LOCKED_TITLE = "{name}范围内被锁定的账号"
CHAT_STATUS_LIST_COLUMNS = ("姓名", "用户名", "单位", "状态")
CHAT_NONE_LOCKED = "{name}范围内没有被锁定的账号。"
CHAT_ROLE_HOLDERS_TITLE = "{name}的{role}"
CHAT_NO_ROLE_HOLDERS = "{name}没有{role}。"
CHAT_BUTTON_MORE = "更多"
CHAT_CHOOSE_BY_NUMBER = "有 {count} 个人登记了这个号码，请选择："
WECHAT_NOT_BOUND = "该账号没有绑定微信"

# Chat (W7): creating an account through a form, deactivating one after a card that says what happens.
CHAT_FORM_TITLE = "新建账号：{unit}"
CHAT_FORM_HINT = "系统会生成临时密码，以短信发到填写的手机号；首次登录须修改密码并通过短信验证。"
CHAT_FORM_FIELD_USERNAME = "用户名（字母、数字，用于登录）"
CHAT_FORM_FIELD_NAME = "姓名"
CHAT_FORM_FIELD_PHONE = "手机号（接收临时密码）"
CHAT_FORM_FIELD_ID_NUMBER = "身份证号（可不填）"
CHAT_FORM_FIELD_ROLE = "角色"
CHAT_FORM_FIELD_FINANCE = "财务查看权限"
CHAT_BUTTON_CREATE = "新建账号"
CHAT_ROLE_NOT_GIVEN = "您不能在{unit}授予{role}角色，请从下面可选的角色中选择。"
CHAT_CREATED = "已为{name}开通账号 {username}，临时密码已通过短信发到 {phone}，首次登录须修改。"
CHAT_DEACTIVATE_TITLE = "停用{name}的账号"
CHAT_DEACTIVATE_WHAT = (
    "停用后，{name}（用户名 {username}）不能再登录，正在使用的登录会全部退出；"
    "绑定的微信和IC卡将解除绑定；用户名 {username} 以后也不会再分配给任何人。停用后不能恢复。"
)
CHAT_BUTTON_DEACTIVATE = "确认停用"
CHAT_BUTTON_TO_DEACTIVATE = "停用账号"
CHAT_NO_OFFICES = "村务通只记录账号的角色（管理员、录入员、查看员），不记录“{office}”这样的职务。{name}的人员如下："
CHAT_DEACTIVATED_DONE = "{name}的账号已停用，不能再登录，微信和IC卡已解除绑定。"
CHAT_BAD_PARAM = "参数不正确，请重新选择。"

# Chat, round 3: last logins, who has not logged in, a support call's questions, role and finance
# changes, ending another's sessions, and what does not exist (expiry, reactivation).
CHAT_FIELD_LAST_LOGIN = "上次登录"
CHAT_FIELD_WECHAT = "微信"
CHAT_BOUND = "已绑定"
CHAT_NOT_BOUND = "未绑定"
CHAT_FIELD_CARD = "IC卡"
CHAT_CARD_PROTECTED = "已绑定（没有绑定IC卡的管理员不能修改此账号）"
CHAT_BUTTON_UNBIND_WECHAT = "解绑微信"
CHAT_CONFIRM_UNBIND_WECHAT = "确定解除{name}的微信绑定吗？解除后那个微信不能再一键登录，TA所有的登录都将退出。"
CHAT_UNBIND_WECHAT_HOW = (
    "{name}绑定了微信。手机丢了或换了人用，可以点“解绑微信”，确认后那个微信不能再一键登录，TA所有的登录都将退出。"
)
CHAT_NO_WECHAT = "{name}没有绑定微信。"
CHAT_WECHAT_RELEASED = (
    "已解除{name}的微信绑定，那个微信不能再一键登录，TA所有的登录都已退出；"
    "TA用账号密码或手机验证码登录时可以重新绑定微信。"
)
CHAT_NEVER_LOGGED_IN = "从未登录"
CHAT_LAST_LOGIN = "{name}上次登录是 {at}（{ago}）。"
CHAT_LAST_LOGIN_NEVER = "{name}还从未登录过。"
CHAT_AGO_TODAY = "今天"
CHAT_AGO_DAYS = "{days} 天前"
CHAT_NOT_LOGGED_IN_TITLE = "{name}范围内从未登录过的账号"
CHAT_NONE_NOT_LOGGED_IN = "{name}范围内没有从未登录过的账号。"
CHAT_IDLE_TITLE = "{name}范围内 {days} 天以上没有登录的账号"
CHAT_NONE_IDLE = "{name}范围内没有 {days} 天以上没有登录的账号。"
CHAT_LOGIN_LIST_COLUMNS = ("姓名", "用户名", "单位", "上次登录")
CHAT_NO_EXPIRY = (
    "村务通的账号和密码都没有有效期，不会过期，也不会因为长期不用而自动停用；只有管理员停用的账号才不能再登录。"
)
CHAT_NO_EXPIRY_ADMIN = "想找出长期不用的账号，可以问“谁很久没登录了”或“谁还没登录过”。"
CHAT_SMS_HELP = (
    "{name}绑定的手机是 {phone}。收不到短信请依次确认：这个号码是不是TA现在用的；手机有没有停机、欠费或没信号；"
    "短信有没有被手机的骚扰拦截拦下（看一下拦截记录）。"
    "验证码 60 秒后才能重发，一个号码一天最多 10 条（确定没有发出的不算）。"
)
CHAT_SMS_HELP_NO_PHONE = "{name}的账号没有绑定手机号，收不到任何短信；请先为TA填写手机号。"
CHAT_SMS_LATEST = "发到这个号码的最近一条短信：{at}，{status}。"
CHAT_SMS_NONE_SENT = "还没有给这个号码发过短信。"
CHAT_SMS_STATUS = {"pending": "等待发送", "sending": "正在发送", "sent": "已发出", "failed": "发送失败"}
CHAT_SMS_PASSWORD_NOT_SENT = "给TA的临时密码短信未能发出，可以再为TA重置一次密码，会发出一条新的临时密码短信。"
CHAT_PASSWORD_NOT_SHOWN = (
    "密码不会显示给任何人：临时密码只通过短信发到{name}绑定的手机 {phone}，系统只保存它的加密摘要。"
    "TA没收到或忘了，可以重置密码，重新发一条短信。"
)
CHAT_PASSWORD_NOT_SHOWN_NO_PHONE = (
    "密码不会显示给任何人，系统只保存它的加密摘要。{name}的账号没有绑定手机号，重置前请先为TA填写手机号。"
)
CHAT_ASK_WHOSE_RESET = "请说出要重置谁的密码，比如“重置王建国的密码”。修改自己的密码请在“我的”里办理。"
CHAT_ASK_WHOSE_UNLOCK = "请说出要解锁谁的账号，比如“解锁王建国”；也可以问“哪些账号被锁了”。"
CHAT_BUTTON_SET_ROLE = "改为{role}"
CHAT_BUTTON_SET_ROLE_IN = "{unit}：改为{role}"
CHAT_CONFIRM_SET_ROLE = "确定把{name}在{unit}的角色改为{role}吗？"
CHAT_ROLE_HOW = "把{name}的角色改为{role}：点下面的“改为{role}”，确认后才会修改。"
CHAT_ROLE_NOT_GIVEN_HERE = "您不能把{name}的角色改为{role}（不能授予不低于自己的角色）；可以改为下面按钮里的角色。"
CHAT_ROLE_SAME = "{name}在{unit}已经是{role}了。"
CHAT_ROLE_NONE_TO_GIVE = "您不能修改{name}的角色。"
CHAT_BUTTON_SET_FINANCE = "财务权限改为{finance}"
CHAT_BUTTON_SET_FINANCE_IN = "{unit}：财务权限改为{finance}"
CHAT_CONFIRM_SET_FINANCE = "确定把{name}在{unit}的财务查看权限改为“{finance}”吗？"
CHAT_FINANCE_HOW = "{name}的财务查看权限在下面改：点“财务权限改为…”按钮，确认后才会修改。"
CHAT_FINANCE_NONE_TO_GIVE = "您不能修改{name}的财务查看权限（不能授予超出自己范围的权限）。"
CHAT_ROLE_SET = "已把{name}在{unit}的角色改为{role}，财务查看权限：{finance}。"
CHAT_FINANCE_SET = "已把{name}在{unit}的财务查看权限改为“{finance}”（角色仍是{role}）。"
CHAT_BUTTON_END_SESSIONS = "退出全部登录"
CHAT_CONFIRM_END_SESSIONS = "确定让{name}所有的登录都退出吗？TA需要重新登录。"
CHAT_END_SESSIONS_HOW = "可以让{name}所有的登录都退出：点“退出全部登录”，确认后TA需要重新登录。"
CHAT_DEVICES_NOT_SHOWN = (
    "别人登录的设备看不到：只有本人能在“我的”里查看和结束自己的登录设备。需要的话，可以让{name}所有的登录都退出。"
)
CHAT_END_SESSIONS_DONE = "{name}所有的登录都已退出（{count} 处），TA需要重新登录。"
CHAT_NOT_DEACTIVATED = "{name}的账号没有停用，可以正常登录。"
CHAT_CANNOT_REACTIVATE = (
    "{name}的账号已停用，停用的账号不能恢复，用户名 {username} 也不会再分配。TA还要使用的话，请为TA新建一个账号。"
)
CHAT_BUTTON_NEW_ACCOUNT = "新建账号"
CHAT_STOPPED_TITLE = "{name}范围内已停用的账号"
CHAT_NONE_STOPPED = "{name}范围内没有已停用的账号。"

# Chat, typing review: why someone cannot log in (from the account's state) and what to do next, a
# lock said with its end, and those who never logged in but are too new to count as idle.
CHAT_TROUBLE_NEVER_USED = (
    "{name}还没有登录过：首次登录要用短信里的临时密码（用户名 {username}），登录后先修改密码才能使用。"
)
CHAT_TROUBLE_NEVER_USED_SMS = (
    "{name}还没有登录过：首次登录要用短信里的临时密码（用户名 {username}），"
    "登录后先用发到绑定手机的短信验证码核对手机，再修改密码，之后才能使用。"
)
CHAT_TROUBLE_MUST_CHANGE = (
    "{name}还没有改掉临时密码：要用短信里最新的一个临时密码登录（用户名 {username}），登录后先修改密码才能使用。"
)
CHAT_TROUBLE_NO_PASSWORD = (
    "{name}的账号是刷IC卡登录时开通的，还没有设置密码，只能刷卡登录；TA刷卡登录后可以在“我的”里设置密码。"
)
CHAT_TROUBLE_FAILURES = "已连续输错 {failures} 次密码，再错 {left} 次会锁定 {minutes} 分钟。"
CHAT_TROUBLE_RESET = "临时密码找不到或不对，可以点“重置密码”，新的临时密码会以短信发到 {phone}，以前的随即作废。"
CHAT_TROUBLE_RESET_FOR_PASSWORD = "也可以点“重置密码”，临时密码会以短信发到 {phone}，TA就能用密码登录了。"
CHAT_TROUBLE_NO_PHONE = "TA的账号没有绑定手机号，收不到临时密码；请先为TA填写手机号，再重置密码。"
CHAT_TROUBLE_WECHAT_RELEASED = (
    "TA的微信一键登录已于 {at} 解除（{cause}），所以微信登录会要求输入密码；在小程序里用账号密码或短信验证码登录一次，"
    "就会重新绑定这个微信。"
)
# Why a WeChat was released (backend.wechat.releases.Reason), as an admin tells it on a support call.
CHAT_WECHAT_RELEASE_CAUSES = {
    "deactivated": "账号已停用",
    "admin_reset": "管理员重置了密码",
    "self_reset": "TA通过短信找回重置了密码",
    "unbound": "TA自己解除了绑定",
    "admin_unbound": "管理员解除了绑定",
    "review_reset": "人工审核通过后重置了密码",
    "handed_over": "账号交给了新的使用人",
    "password_changed": "TA在别处修改了密码",
}
CHAT_TROUBLE_ASK_ADMIN = "需要重置密码的话，请联系能管理TA账号的管理员。"
CHAT_PRESS_UNLOCK = "点下面的“解锁”，确认后TA就能重新登录。"
CHAT_CANNOT_UNLOCK = "您不能管理这个账号，不能为TA解锁；可以等它自动解锁，或请能管理TA账号的管理员解锁。"
CHAT_LAST_LOGIN_NEVER_SUCCEEDED = "{name}还从未成功登录过。"
CHAT_LOCKED_UNTIL = "账号因连续输错密码已锁定，{until} 自动解锁。"
CHAT_NEVER_BUT_NEW = "另有 {count} 个账号开通不到 {days} 天，还从未登录过；可以问“谁还没登录过”。"
CHAT_BUTTON_NEVER_LOGGED_IN = "谁还没登录过"
