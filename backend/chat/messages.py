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
THANKS = "不客气。还要查什么，直接输入就行。"
NOT_ALLOWED = "您的角色不能进行这项操作。"
MASKED_NUMBER = "这是打了星号的号码，查不到人。请输入完整的手机号或身份证号。"
OWN_ACCOUNT = (
    "自己的账号在“我的”里管理：点输入框旁的“我的”，可以看个人信息，修改密码，换绑手机，"
    "解绑微信，查看和结束登录设备，退出登录。"
)
HELP = (
    "可以这样问我：\n"
    "· 输入单位名称（也可以用拼音或首字母），如“王家湾”或“wjw”\n"
    "· 输入身份证号或手机号查人\n"
    "· “汇总”“本乡汇总”“汇总 青山县”看汇总\n"
    "· “下级单位”“这个村有哪些人”\n"
    "· “更多”看下一页，“上一页”“第2页”回到看过的页"
)
