"""Chinese texts of the co-op domain: info cards (一社一卡), their queries and the summaries."""

# The note on an answer about the own unit named by a place word of another level is the units
# domain's (backend.units.chat.own_level_notices), one text for every answer
from backend.units.messages import OWN_LEVEL_BELOW as OWN_LEVEL_BELOW
from backend.units.messages import OWN_SCOPE_ONLY as OWN_SCOPE_ONLY

# Money and the finance permission
NO_FINANCE = "无权限"
NOT_ENTERED = "未填报"  # a money figure no one with finance access has entered yet
NO_AVERAGE = "—"  # an average over no card that has the figure
MONEY_UNIT = "万元"
YI_UNIT = "亿元"  # a threshold of 10,000 万元 or more is said in 亿元

# Validation and refusals of the card actions
NOT_A_COOP = "只有合作社类型的单位才能建立信息卡"
CARD_EXISTS = "该合作社已经有信息卡，请直接修改"
NO_CARD = "该合作社还没有建立信息卡"
# What is answered ({what}) and how to ask for one unit of a level ({ask}), in the note on an answer
# about the own unit named by another level's word ("本镇汇总" typed by a county's cadre)
WHAT_SUMMARY = "汇总"
WHAT_STATS = "统计指标"
WHAT_MAP = "合作社分布"
ASK_SUMMARY = "汇总 {name}"
ASK_LIST = "{name}的{what}"
ASK_NARROWED = "{name}{what}"  # "白沙镇亏损的合作社", as NARROWED_TITLE
ASK_STATS = "{name}统计指标"
ASK_MAP = "地图 {name}"
PERIOD_NOT_KEPT = "汇总和统计按各合作社信息卡的现有数据计算（每张卡的数据年份见信息卡），不能单独查看“{period}”的数据。"
PERIOD_NOT_KEPT_CARDS = (
    "合作社名单、排名和地图按各合作社信息卡的现有数据给出（每张卡的数据年份见信息卡），不能单独查看“{period}”的数据。"
)
NOT_A_COOP_CARD = "“{name}”不是合作社，没有信息卡"
NOT_A_COOP_CARD_SAID = "“{name}”不是合作社，没有信息卡。"  # in the chat, a sentence
SEE_ITS_COOPS = "{name}的合作社"
MONEY_TOO_PRECISE = "金额以万元为单位，最多精确到分（小数点后 6 位）"
COORDINATES_IN_PAIRS = "经度和纬度要么都填，要么都不填"
LATITUDE_OUTSIDE_CHINA = "纬度不在我国范围内（北纬 3 至 54 度），请检查是否填错"
LONGITUDE_OUTSIDE_CHINA = "经度不在我国范围内（东经 73 至 136 度），请检查是否填错"
YEAR_IN_FUTURE = "年份不能晚于今年"
FOUNDED_AFTER_REPORT = "成立年份不能晚于数据所属年份"
REPORT_BEFORE_FOUNDED = "数据所属年份不能早于成立年份"
AMBIGUOUS_REGION = "有多个同名单位，请改用单位编号指定"
REGION_NAME_OR_ID = "区域只能用编号或名称中的一种指定"
MONEY_NEEDS_FINANCE = "您没有这个合作社的财务权限，不能填写或修改金额"
DELETE_NEEDS_FINANCE = "这张信息卡填有金额，您没有这个合作社的财务权限，不能删除"
# Optimistic concurrency (If-Match): the card changed since the client read it, or the header is bad
CARD_CHANGED = "这张信息卡在您打开之后已被其他人修改，本次操作没有执行。请重新打开信息卡，核对最新内容后再操作。"
IF_MATCH_INVALID = "请求头 If-Match 格式不正确，请原样带上读取信息卡时得到的 ETag"
IF_MATCH_WEAK = "请求头 If-Match 不能使用弱校验值（以 W/ 开头），请原样带上读取信息卡时得到的 ETag"

# Labels of the card
CARD_TITLE = "信息卡"
LABEL_NAME = "名称"
LABEL_CREDIT_CODE = "统一社会信用代码"
LABEL_UNIT_CODE = "编码"
LABEL_REGION = "所属区域"
LABEL_ADDRESS = "详细地址"
LABEL_CONTACT = "联系人"
LABEL_CONTACT_PHONE = "联系电话"
LABEL_MEMBERS = "社员数"
LABEL_STAFF = "从业人员"
LABEL_CAPITAL = "注册资本"
LABEL_ASSETS = "资产总额"
LABEL_REVENUE = "营业收入"
LABEL_PROFIT = "利润"
LABEL_SCOPE = "经营范围"
LABEL_FOUNDED = "成立年份"
LABEL_REPORT_YEAR = "数据年份"
LABEL_FLAGS = "类别"
LABEL_COORDINATES = "坐标"
FLAG_VILLAGE_LEVEL = "村级社"
FLAG_BENCHMARK = "标杆社"
FLAG_POVERTY_COUNTY = "贫困县基层社"
FLAG_NONE = "一般"
EMPTY = "—"

# Lists
KIND_TITLES = {
    None: "合作社",
    "village_level": "村级社",
    "benchmark": "标杆社",
    "poverty_county": "贫困县基层社",
}
LIST_TITLE = "{region}的{kind}"
NARROWED_TITLE = "{region}{kind}"  # "青山县亏损的合作社", "白沙镇2020年成立的合作社"
LIST_COLUMNS = ["名称", "所属区域", "联系人", "联系电话"]
LIST_EMPTY = "{region}暂无{kind}。"
NO_MORE = "没有更多了。"

# Rankings: the figure a ranking is by, as a column and in its title
RANK_COLUMNS = {
    "members": "社员数",
    "staff": "从业人员",
    "assets": "资产总额（万元）",
    "revenue": "营业收入（万元）",
    "profit": "利润（万元）",
    "registered_capital": "注册资本（万元）",
    "loss": "利润（万元）",
    "newest": "成立年份",
    "oldest": "成立年份",
}
RANK_TITLES_LEAST = {
    "members": "{region}社员最少的合作社",
    "staff": "{region}从业人员最少的合作社",
    "assets": "{region}资产最少的合作社",
    "revenue": "{region}营业收入最低的合作社",
    "profit": "{region}利润最低的合作社",
    "registered_capital": "{region}注册资本最少的合作社",
    "loss": "{region}亏损最少的合作社",
    "newest": "{region}成立最早的合作社",
    "oldest": "{region}最新成立的合作社",
}
RANK_TITLES = {
    "members": "{region}社员最多的合作社",
    "staff": "{region}从业人员最多的合作社",
    "assets": "{region}资产最多的合作社",
    "revenue": "{region}营业收入最高的合作社",
    "profit": "{region}利润最高的合作社",
    "registered_capital": "{region}注册资本最多的合作社",
    "loss": "{region}亏损最多的合作社",
    "newest": "{region}最新成立的合作社",
    "oldest": "{region}成立最早的合作社",
}
RANK_FIRST = "{title}是{name}（{column} {value}）。"
RANK_FIRST_TIED = "{title}是{names}（{column}各 {value}）。"  # first places tied
NAMES_SEPARATOR = "、"
NAMES_LAST = "和"
NAMES_AND_MORE = "等"
UNITS_RANK_TITLE = "{region}{what}最多的{level}"
UNITS_RANK_TITLE_LEAST = "{region}{what}最少的{level}"
FEWEST_ALSO_NONE = "另有 {count} 个{level}还没有合作社信息卡，问“哪些{level}没有合作社”可以看到。"
UNITS_RANK_WORDS = {
    "coops": "合作社",
    "members": "社员",
    "staff": "从业人员",
    "assets": "资产",
    "revenue": "营业收入",
    "profit": "利润",
    "registered_capital": "注册资本",
    "loss": "合作社亏损",
    "village_level": "村级社",
    "benchmark": "标杆社",
    "poverty_county": "贫困县基层社",
}
MOST_COOPS_COLUMNS = ["名称", "所属", "合作社"]
MOST_COOPS_NONE = "{region}下面的{level}都还没有合作社信息卡。"
# A ranking of units by loss with none in the red, or by a kind of co-op none of them has
MOST_LOSS_NONE = "{region}下面没有亏损的{level}：每个{level}的合作社利润合计都不是负数。"
MOST_KIND_NONE = "{region}下面的{level}都还没有{kind}。"
NO_COOPS_TITLE = "{region}还没有{kind}的{level}"  # {kind}: 合作社, or 标杆社 / 村级社 / 贫困县基层社
NO_COOPS_COLUMNS = ["名称", "所属"]
NO_COOPS_NONE = "{region}下面的{level}都有合作社信息卡。"
NO_KIND_NONE = "{region}下面的{level}都有{kind}。"
# "前5名", "只看前三" typed with no ranking shown before
FIRST_PLACES_NEED_RANKING = (
    "“前几名”是对排名说的：请先问一个排名，如“社员最多的合作社”“哪个村合作社最多”，再说“前5名”。"
)
RANK_MONEY_NOT_ALLOWED = "按金额排名会透露您看不到的金额，需要“全部”财务权限；可以按社员数或从业人员排名。"
COMPARE_TITLE = "合作社汇总对比"
COMPARE_CHART = "各单位合作社数"
COMPARE_TOO_MANY = "一次最多对比 {count} 个单位，请少列几个。"
# Two units compared by a count: the difference in a sentence ("白沙镇的合作社比桃源乡多 2 个（3 个对 1 个）。")
COMPARE_COUNTS = {"coops": ("合作社", "个"), "members": ("社员", "人"), "staff": ("从业人员", "人")}
COMPARE_MORE = "{a}的{what}比{b}多 {diff} {unit}（{x} {unit}对 {y} {unit}）。"
COMPARE_FEWER = "{a}的{what}比{b}少 {diff} {unit}（{x} {unit}对 {y} {unit}）。"
COMPARE_EQUAL = "{a}和{b}的{what}一样多，都是 {count} {unit}。"
FOUNDED_IN = "{year}年成立的"
FOUNDED_FROM = "{year}年及以后成立的"
FOUNDED_UNTIL = "{year}年及以前成立的"
FOUNDED_BETWEEN = "{first}—{last}年成立的"
LOSS_WORDS = "亏损的"
# Why an amount shows 无权限, by the actor's finance access
FINANCE_ACCESS_SAYS = {
    "none": "合作社的资产、营业收入、利润和注册资本按“财务权限”显示。您的财务权限是“无”，这些金额都显示为“无权限”。"
    "需要查看时，请联系本单位或上级单位的管理员调整财务权限。",
    "own_region": "合作社的资产、营业收入、利润和注册资本按“财务权限”显示。您的财务权限是“仅本区域”：在信息卡上，"
    "直属本单位的合作社显示金额，下级村镇的合作社显示“无权限”。汇总、统计和对比里，下级单位和各合作社的行都显示“无权限”"
    "（合计会透露下级的金额）；本单位的合计只在下级村镇都没有合作社时显示。按金额排名或筛选需要“全部”权限。"
    "需要调整时，请联系上级单位的管理员。",
    "all": "您的财务权限是“全部”：范围内所有合作社的资产、营业收入、利润和注册资本都可以查看。",
}
OVER_WORDS = "{figure}{op}{amount}的"  # "社员数超过500的", "资产总额不少于1000万元的"
TINY_LOSS = "-<0.01"  # a loss under 0.005 万元 in a list of losses: still a loss
LOSS_FIGURE = "亏损"  # "亏损超过10万元的合作社"
OVER_OPS = {"gt": "超过", "gte": "不少于", "lt": "少于", "lte": "不超过"}
# "社员在100人" (neither 以上 nor 以下 typed): which side, asked with a button for each
OVER_WHICH_SIDE = "要看{figure}{amount}以上的合作社，还是{amount}以下的？请选择："
OVER_SIDES = {"gte": "{amount}以上", "lte": "{amount}以下"}
PEOPLE_AMOUNT = "{count}人"
OVER_MONEY_NOT_ALLOWED = "按金额筛选合作社会透露您看不到的金额，需要“全部”财务权限；可以按社员数或从业人员筛选。"
LOSS_NOT_ALLOWED = "哪些合作社亏损会透露您看不到的利润，需要“全部”财务权限。"

# Statistics
STATS_TITLE = "{region}合作社统计指标"
COOP_STATS_TITLE = "{region}统计指标"  # a co-op's own: its name says it is one
STATS_COOPS = "合作社总数"
STATS_SHARE = "{count} 个（占 {share}）"
STATS_AVG_MEMBERS = "平均社员数"
STATS_AVG_STAFF = "平均从业人员"
STATS_AVG_ASSETS = "平均资产"
STATS_AVG_REVENUE = "平均营业收入"
STATS_AVG_PROFIT = "平均利润"
STATS_TOTAL = "合计"

# Map
MAP_TITLE = "{region}合作社分布"
COOP_MAP_TITLE = "{region}分布"
MAP_CAPPED = "有坐标的合作社共 {total} 个，地图上只标出前 {shown} 个；请缩小区域查看。"
MAP_EMPTY = "{region}还没有填写坐标的合作社。"
MAP_NOT_LOCATED = "另有 {count} 个合作社没有填写坐标，没有在地图上标出。"
MAP_NONE_LOCATED = "{region}有 {count} 个合作社还没有填写坐标，地图上无法标出。"

# Summaries (W4)
SUMMARY_TITLE = "{unit}合作社汇总"
COOP_SUMMARY_TITLE = "{unit}汇总"  # a co-op's own: its name says it is one
SUMMARY_SUBTITLE = "金额单位：万元"
SUMMARY_BREAKDOWN = "按下级单位"
SUMMARY_COLUMNS = ["单位", "合作社", "村级社", "标杆社", "社员", "资产（万元）"]
SUMMARY_CHART = "各下级单位合作社数"
SUMMARY_CHART_TOP = "合作社最多的 {count} 个下级单位"
SUMMARY_EMPTY = "{unit}暂无合作社信息卡。"
# Co-op units with no card yet: not in the counts and lists of cards, said apart by name
CARDS_WORD = "合作社信息卡"  # "白沙镇还没有合作社信息卡的村"
BARE_COOPS = "{region}有 {count} 个合作社还没有建立信息卡：{names}。"
BARE_COOPS_ALSO = "另有 {count} 个合作社还没有建立信息卡，没有计入：{names}。"
SUMMARY_NO_CHILDREN = "下级单位都还没有合作社信息卡。"
SUMMARY_MORE_CHILDREN = "只列出合作社最多的 {shown} 个下级单位。"
SERIES_COOPS = "合作社"
SERIES_VILLAGE_LEVEL = "村级社"
SERIES_BENCHMARK = "标杆社"
COUNT_UNIT = "个"

# Chat
# "这个合作社", "该社" typed when the unit shown last is no co-op (as "这个村" after a township's card)
SHOWN_NOT_A_COOP = "刚才查看的是{name}（{type}），不是一个合作社。请直接说出要查的合作社的名称。"
NO_LAST_UNIT = "还不知道您说的是哪个单位。请先查一个单位，或者说“汇总 单位名称”。"
NAME_NOT_FOUND = "在您的管辖范围内没有找到名为“{name}”的单位。"
PICK_ONE = "有 {count} 个单位叫“{name}”，请选一个："
PICK_MANY = "叫“{name}”的单位超过 {count} 个，这里只列出前 {count} 个；也可以先查它的上级单位，再从下级单位中选择："
PICK_LIKE = "没有单位正好叫“{name}”，您要找的是不是："
PICK_TITLE = "请选择单位"
BUTTON_CARD = "查看信息卡"
BUTTON_SUMMARY = "汇总"
BUTTON_MORE = "更多"
BUTTON_MAP = "地图"
BUTTON_STATS = "统计指标"
BAD_PARAM = "参数不正确，请重新选择。"
NEGATIVE_FIGURE = "{figure}不会是负数，请写成正数，例如“{example}”。"
NEGATIVE_MONEY_EXAMPLE = "{figure}超过5万的合作社"
NEGATIVE_COUNT_EXAMPLE = "{figure}超过10人的合作社"

# Rollup check (job and command line)
ROLLUPS_OK = "汇总数据与信息卡一致（检查了 {checked} 个单位）"
ROLLUPS_REPAIRED = "发现 {drifted} 个单位的汇总数据与信息卡不一致，已修复"

# review: co-op card writes
YEAR_TOO_EARLY = "年份不能早于 {year} 年，请检查是否填错"
COORDINATES_SWAPPED = "纬度和经度好像填反了：纬度在北纬 3 至 54 度之间，经度在东经 73 至 136 度之间"

# The card as a chat form (backend.coops.card_form)
FORM_LABELS = {
    "contact_name": "联系人",
    "contact_phone": "联系电话",
    "address": "详细地址",
    "members": "社员数",
    "staff": "从业人员",
    "registered_capital": "注册资本（万元）",
    "assets": "资产总额（万元）",
    "revenue": "营业收入（万元）",
    "profit": "利润（万元，亏损填负数）",
    "founded_year": "成立年份",
    "report_year": "数据年份",
    "is_village_level": "村级社",
    "is_benchmark": "标杆社",
    "in_poverty_county": "贫困县基层社",
    "business_scope": "经营范围",
    "latitude": "纬度",
    "longitude": "经度",
}
FORM_PHONE_KEPT = "联系电话（不改请留空）"
FORM_CLEAR_PHONE = "清空联系电话"
FORM_CLEAR_PHONE_WITH_NEW = "要清空联系电话就不要填写新号码；要改成新号码，请把“清空联系电话”选为“否”"
FORM_CLEAR_PHONE_BAD = "请选择“是”或“否”"
YES = "是"
NO = "否"
FORM_EDIT_TITLE = "编辑信息卡：{name}"
FORM_CREATE_TITLE = "录入信息卡：{name}"
BUTTON_SAVE = "保存"
BUTTON_EDIT = "编辑信息卡"
BUTTON_CREATE = "录入信息卡"
CARD_SAVED = "{name}的信息卡已保存。"
CARD_CREATED = "{name}的信息卡已录入。"
NOTHING_CHANGED = "没有改动，信息卡保持原样。"
CHANGED_WHILE_EDITING = "您编辑期间这张信息卡已被其他人修改，本次没有保存。下面的表单已换成最新内容，请核对后再保存。"
TYPED_DIFFERS = "您填写的与最新内容不同的有：{values}。"
TYPED_VALUE = "{label} {value}"
EDIT_WHICH = "请说明要编辑哪个合作社的信息卡，如“编辑王家湾村综合服务社的信息卡”。"
NO_CARD_YET = "{name}还没有信息卡。"
PICK_CONTACT = "联系人是“{name}”的合作社"
