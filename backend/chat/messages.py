"""Chinese texts of the chat itself (each domain keeps the texts of its own intents)."""

UNKNOWN = "没太明白您的意思。可以输入单位名称、人名、身份证号或手机号查询，或者点下面的按钮。"
NO_MORE = "没有更多了。"
THANKS = "不客气。还要查什么，直接输入就行。"
NOT_ALLOWED = "您的角色不能进行这项操作。"
HELP = (
    "可以这样问我：\n"
    "· 输入单位名称（也可以用拼音或首字母），如“王家湾”或“wjw”\n"
    "· 输入身份证号或手机号查人\n"
    "· “汇总”“本乡汇总”“汇总 青山县”看汇总\n"
    "· “下级单位”“这个村有哪些人”\n"
    "· “更多”看下一页"
)
