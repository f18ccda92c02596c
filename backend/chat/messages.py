"""Chinese texts of the chat itself (each domain keeps the texts of its own intents)."""

UNKNOWN = "没太明白您的意思。可以输入单位名称、人名、身份证号或手机号查询，或者点下面的按钮。"
NO_MORE = "没有更多了。"
NO_TABLE = "现在没有可以翻页的列表，先查一个列表吧，比如“下级单位”。"
FIRST_PAGE_ALREADY = "这已经是第一页了。"
EARLIER_PAGES_ABOVE = "前面的页在上面的对话里，往上翻就能看到。"
ONLY_PAGES = "这个列表一共只有 {pages} 页。"
NO_PAGE_ZERO = "页码从 1 开始，比如“第1页”。"
PAGES_NOT_KNOWN = "这个列表请说“更多”往后翻，前面的页往上翻就能看到。"
PAGE_BY_MORE = "还没翻到第 {wanted} 页，请说“更多”一页一页往后看。"
# Typed choices of what was just shown (backend.chat.choices).
NO_CHOICES = "上面没有可以选的列表。先查一个列表，比如“下级单位”，再说“第二个”。"
ONLY_CHOICES = "只列出了 {count} 个，请说不超过 {count} 的序号，比如“第一个”，或者直接点按钮。"
CHOICE_NOT_KEPT = "第 {number} 个请直接点列表里的那一行。"
CHOICE_TAP = "这一项请直接点它的按钮。"
CHOICE_TAP_LABEL = "请点卡片上的“{label}”。"  # a yes after a card whose one button writes
CHOICE_WHICH = "上面有几个可以选，请说第几个，比如“第一个”，或者直接点按钮。"
# "她的操作记录" before any person's card was shown (backend.chat.choices.means_last_person).
NO_LAST_PERSON = "还没有查看过哪个人，不知道指的是谁。请说出姓名，比如“王建国的操作记录”。"
THANKS = "不客气。还要查什么，直接输入就行。"
NOTED = "好的。还要查什么，直接输入就行。"  # "好的", "嗯嗯": no thanks to answer
NOT_ALLOWED = "您的角色不能进行这项操作。"
WHO_MAY = {  # after NOT_ALLOWED: who may, by the permission the question needs (backend.core.roles)
    "accounts.view": "人员和账号只有管理员可以查看。",
    "accounts.manage": "账号只有管理员可以管理。",
    "audit.view": "操作记录只有管理员可以查看。",
    "coops.write": "信息卡只有录入员和管理员可以填写和修改。",
    "units.manage": "单位和单位注册申请只有管理员可以管理。",
}
MASKED_NUMBER = "这是打了星号的号码，查不到人。请输入完整的手机号或身份证号。"
OWN_ACCOUNT = (
    "自己的账号在“我的”里管理：点输入框旁的“我的”，可以看个人信息，修改密码，换绑手机，"
    "解绑微信，查看和结束登录设备，退出登录。"
)
# Switching unit is done in "我的" (backend.chat.builtin.switch_unit).
SWITCH_UNITS = "您有 {count} 个单位：{units}。切换单位：点输入框旁的“我的”，再点“切换单位”选择。"
SWITCH_CURRENT = "{name}（现在的单位）"
SWITCH_SEPARATOR = "、"
SWITCH_ONLY_ONE = "您只在{name}一个单位任职，不需要切换单位。"
SWITCH_TO = "{name}是您的另一个单位。要换过去，请点输入框旁的“我的”，再点“切换单位”，选择{name}。"
SWITCH_HERE = "您现在就在{name}。"
HELD_ELSEWHERE = (
    "{name}不在{unit}的范围内，它是您的另一个单位：要查看它，请点输入框旁的“我的”，再点“切换单位”选择{name}。"
)
NO_EXPORT = "村务通还不能导出、下载或打印表格；需要留存的结果可以截图保存。"
NO_NOTICES = "村务通还不能发布和查看通知公告，有通知请通过原来的渠道发布和查看。"
FORGOT_PASSWORD = (
    "忘了自己的登录密码：先在“我的”里退出登录，再在登录页点“忘记密码”，用绑定手机收到的验证码和"
    "身份证号重新设置。绑定的手机已经不用了，点登录页的“其他找回方式”，或请上级单位的管理员重置密码。"
)
# Help, by what the role may do (backend.core.roles: the permission a line needs; None: any role).
HELP_INTRO = "可以这样问我："
HELP_LINES: tuple[tuple[str | None, str], ...] = (
    (None, "· 输入单位名称（也可以用拼音或首字母），如“王家湾”或“wjw”"),
    ("accounts.view", "· 输入身份证号或手机号查人"),
    (None, "· “汇总”“本乡汇总”“汇总 青山县”看汇总，“白沙镇和桃源乡的汇总”对比几个单位"),
    (None, "· “下级单位”“青山县有几个村”"),
    ("accounts.view", "· “这个村有哪些人”“王家湾村的管理员是谁”"),
    (None, "· “村级社”“地图”“统计”“社员最多的合作社”“哪些村没有合作社”“2020年以后成立的合作社”"),
    ("coops.write", "· 说“编辑王家湾村综合服务社的信息卡”，在表单里修改信息卡"),
    ("audit.view", "· “操作记录”“登录失败记录”“王建国的操作记录”“今天有几个人登录”"),
    ("accounts.manage", "· “经办人”“添加经办人”管理经办人，“新建账号”“停用王建国的账号”管理账号"),
    ("accounts.manage", "· “待审核”处理找回账号的人工审核申请"),
    ("units.manage", "· “注册审批”处理下级单位的注册申请"),
    (None, "· “更多”看下一页，“上一页”“第2页”回到看过的页"),
    (None, "· 列表或按钮出来后，说“第二个”“最后一个”打开那一项"),
    ("accounts.manage", "· 看过某人后，说“她的操作记录”“重置她的密码”"),
)
# Days in a title (backend.chat.days.say_days).
DAY_TODAY = "今天"
DAY_YESTERDAY = "昨天"
DAY_THIS_YEAR = "{month}月{day}日"
DAY_OTHER_YEAR = "{year}年{month}月{day}日"
DAYS_SINCE = "{first}以来"
DAYS_BETWEEN = "{first}至{last}"
