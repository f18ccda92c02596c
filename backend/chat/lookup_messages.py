"""Chinese texts of the name lookup in chat (backend/chat/lookup.py and the ``lookup.name`` intent)."""

NOT_FOUND = "没有找到“{name}”。可以只输入名称的一部分，或者用拼音、首字母试试。"
# for a role that looks up units only: a person's name finds nothing, and the answer says why
NOT_FOUND_UNITS_ONLY = (
    "没有找到名为“{name}”的单位或合作社。可以只输入名称的一部分，或者用拼音、首字母试试；查人员需要管理员角色。"
)
CHOOSE = "找到 {count} 个与“{name}”相符的结果，请选择："
CHOOSE_NEAR = "没有与“{name}”完全相符的结果，您要找的是不是："
TOO_MANY = "结果较多，只列出前 {count} 个；输入更完整的名称可以缩小范围。"
PAGED = "结果较多，这里是第 {first}-{last} 个；输入“更多”看下一页，输入更完整的名称可以缩小范围。"
NO_MORE_MATCHES = "没有更多与“{name}”相符的结果了。"
SUGGEST_MORE = "更多"
DID_YOU_MEAN = "您是不是要找："
SUGGEST_HELP = "帮助"
