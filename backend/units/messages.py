"""Chinese texts of the unit domain."""

UNIT_HAS_CHILDREN = "该单位下还有下级单位，不能删除；请先删除或移走下级单位。"
UNIT_HAS_ACCOUNTS = "该单位还有账号，不能删除；请先把账号移出本单位。"
UNIT_HAS_DEACTIVATED_ACCOUNTS = "该单位还留有已停用账号的记录，不能删除：停用的账号要保留所属单位，以备查询和审计。"
UNIT_HAS_COOP_CARD = "该合作社有信息卡，不能删除；请先删除信息卡。"
UNIT_STILL_REFERENCED = "该单位刚被其他记录（下级单位、账号、设备或信息卡等）引用，不能删除；请刷新后查看"
COOP_TYPE_HAS_CARD = "该合作社有信息卡，不能改为其他类型；请先删除信息卡。"
MOVE_INTO_OWN_SUBTREE = "不能把单位移到它自己或它的下级单位之下"
ONLY_BELOW_OWN_UNIT = "只能管理本单位的下级单位"
DUPLICATE_UNIT_CODE = "单位代码已被其他单位使用"
DUPLICATE_CREDIT_CODE = "统一社会信用代码已被其他单位使用"
# A region code names one region (a co-op's, school's and the like say which region they lie in).
DUPLICATE_REGION_CODE = "区划代码已被其他单位使用"
# No two units of one name below one parent: lookups by name (chat, ?name=) could not tell them apart.
SAME_NAME_SIBLING = (
    "{parent}下已有名为“{name}”的单位，同一上级单位下不能有同名单位；如果是另一个单位，请在名称上加以区别（如加上地名）"
)
REGION_CODE_OUTSIDE_PARENT = "区划代码与上级单位的区划代码不一致"
REGION_CODE_EXCLUDES_LOWER = (
    "有下级单位的区划代码不在这个区划之内；如需整体调整，请先清空本单位的区划代码，改好下级单位后再填写"
)
# The region levels run province > city > county > township > village: a region sits only below a
# region of a higher level (levels may be skipped); co-ops, schools and the like sit anywhere.
LEVEL_ORDER_BELOW = "{child}不能设在{parent}之下：行政区划只能设在级别更高的行政区划之下（省＞市＞县＞乡镇＞村）"
LEVEL_ORDER_RETYPE_CHILD = (
    "不能改为{new}：下级单位“{name}”是{child}，{child}不能设在{new}之下；请先把它移到合适的上级单位之下"
)
PARENT_REQUIRED = "请选择上级单位"
SAME_PARENT = "单位已在该上级单位之下"

# Chat (W2, W3): the unit card, its children, lookups by code.
TYPE_LABELS = {
    "province": "省",
    "city": "市",
    "county": "县",
    "township": "乡镇",
    "village": "村",
    "coop": "合作社",
    "school": "学校",
    "employer": "用人单位",
    "work_team": "工作队",
    "other": "其他单位",
}
CHAT_FIELD_TYPE = "类型"
CHAT_FIELD_REGION_CODE = "区划代码"
CHAT_FIELD_CREDIT_CODE = "统一社会信用代码"
CHAT_FIELD_PARENTS = "所属"
CHAT_FIELD_CHILDREN = "下级单位"
CHAT_FIELD_MEMBERS = "本单位人员"
CHAT_COUNT = "{count} 个"
CHAT_PEOPLE_COUNT = "{count} 人"
CHAT_BUTTON_CHILDREN = "下级单位"
CHAT_BUTTON_MEMBERS = "人员"
CHAT_BUTTON_SUMMARY = "汇总"
CHAT_BUTTON_COOP_CARD = "信息卡"
CHAT_BUTTON_MORE = "更多"
CHAT_CHILDREN_TITLE = "{name}的下级单位"
CHAT_CHILDREN_COLUMNS = ("名称", "类型", "区划代码")
CHAT_NO_CHILDREN = "{name}没有下级单位。"
CHAT_LEVEL_TITLE = "{name}的{level}"
CHAT_LEVEL_COLUMNS = ("名称", "所属", "区划代码")
CHAT_NO_LEVEL = "{name}下面没有{level}。"
# What "有几个村" / "有哪些乡镇" ask for: a level of the region tree, by the word for it.
LEVEL_LABELS = {"village": "村", "township": "乡镇", "county": "县", "city": "市"}
CHAT_CODE_NOT_FOUND = "没有找到这个代码对应的单位。"
CHAT_OWN_SCOPE_ONLY = "您的查看范围是{unit}，看不到“{said}”（请上级单位查看）；以下是{unit}的信息。"
CHAT_ABOVE_SCOPE = "您的查看范围是{unit}，看不到“{said}”（请上级单位查看）。要查本单位，请说“{unit}”。"
CHAT_OWN_LEVEL_BELOW = (
    "您的单位{unit}是{type}，不是{level}；以下是{unit}的信息。要查某一个{level}，请直接说它的名称，如“{name}”。"
)
CHAT_NAME_OF_LEVEL = "{level}名称"
# The same in any other answer about the own unit ("全县汇总" typed by a township's cadre, "本镇有几个村"
# by a county's): {what} is what is answered, {ask} how to ask for one unit of that level
OWN_SCOPE_ONLY = "您的查看范围是{unit}，看不到“{said}”的{what}（请上级单位查看）；以下是{unit}的{what}。"
OWN_LEVEL_BELOW = "您的单位{unit}是{type}，不是{level}；以下是{unit}的{what}。要看某一个{level}的{what}，请说“{ask}”。"
ASK_LEVEL = "{name}有几个{what}"  # "白沙镇有几个村"
# "各村汇总" typed at a county: its rows are its townships
EACH_LEVEL_BELOW = (
    "{unit}的{what}按下一级的{by}列出，不是按{level}。要看各{level}的{what}，请说“{name}各{level}{what}”。"
)
CHAT_SHOWN_ABOVE_LEVEL = "刚才查看的是{name}（{type}），不是一个{level}。请直接说出要查的{level}的名称。"
CHAT_SHOWN_IN_NO_LEVEL = (
    "刚才查看的{name}（{type}）直接属于{parent}，不属于任何{level}。请直接说出要查的{level}的名称。"
)
CHAT_CODE_NOT_FOUND_OR_ID = "没有找到这个代码对应的单位。如果输入的是身份证号码，它的最后一位（校验位）对不上，请核对。"
CHAT_CHOOSE_UNIT = "有 {count} 个单位符合“{name}”，请选择："
CHAT_UNIT_NOT_FOUND = "没有找到单位“{name}”。可以输入名称的一部分，或者用拼音、首字母试试。"
CHAT_SUGGEST_CHILDREN = "下级单位"
CHAT_SUGGEST_MEMBERS = "这个单位的人员"
CHAT_SUGGEST_SUMMARY = "汇总"
# The path column holds the ids of every unit above: a tree deeper than it holds is refused.
TREE_TOO_DEEP = "单位层级太多，不能再放到这个上级单位之下"
UNIT_HAS_DEVICE = "该单位登记过卡服务电脑（设备），不能删除：设备记录要保留所属单位，以备查询和审计。"
# Only requests still waiting hold a unit; decided ones keep their record without it.
UNIT_HAS_PENDING_REGISTRATIONS = (
    "有 {count} 份注册申请（{names}）申请加入该单位，还在等待审核，不能删除；请先在注册审核中通过或驳回。"
)
UNIT_HAS_PENDING_REVIEWS = (
    "该单位有 {count} 份人工审核申请（{kinds}）还在等待审核，不能删除；请先在人工审核中通过或驳回。"
)
AND_MORE = "等"  # after the first names of a longer list
# A registration waiting for a decision holds its credit code (P12): where it is decided, by whom may.
CREDIT_CODE_PENDING_REGISTRATION = (
    "统一社会信用代码已被一份单位注册申请使用：“{name}”申请加入{superior}，还在等待审核。"
    "如果是同一个单位，请在注册审批中直接通过这份申请（可对小助手说“注册申请 {id}”），单位和它的管理员账号会一起建好；"
    "如果不是，请先驳回它再填写。"
)
CREDIT_CODE_PENDING_ELSEWHERE = (
    "统一社会信用代码已被一份单位注册申请使用，还在等待审核（由{superior}或其上级单位的管理员审批）；"
    "请等它通过或驳回后再填写。"
)
