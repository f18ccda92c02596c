"""Chinese texts of unit self-registration (P12)."""

SUPERIOR_REQUIRED = "请从搜索结果中选择要加入的上级单位，或填写上级单位的区划代码（二者选其一）"
SUPERIOR_NOT_FOUND = "没有找到这个上级单位，请重新搜索选择"
SUPERIOR_REGION_NOT_FOUND = "没有哪个省、市、县或乡镇单位使用这个区划代码"
SUPERIOR_REGION_AMBIGUOUS = "这个区划代码对应多个单位，请改用名称搜索选择上级单位"
REGION_OUTSIDE_SUPERIOR = "单位的区划代码不在所选上级单位的辖区内"
BAD_ORG_CODE = "组织机构代码应为 9 位，最后一位校验码需正确"
ORG_CODE_MISMATCH = "组织机构代码与统一社会信用代码的第 9 至 17 位不一致"
PHONE_NOT_VERIFIED = "该手机号不是刚才接收验证码的号码，请重新获取验证码"
USERNAME_LOOKS_LIKE_PHONE = "用户名不能是手机号码，请换一个"
CREDIT_CODE_TAKEN = "该统一社会信用代码已注册过单位，或已有注册申请在等待审核"
USERNAME_TAKEN = "该用户名已被使用或正在等待审核（已停用账号的用户名也不会再分配），请换一个"
ADMIN_USERNAME_TAKEN = (
    "申请人填写的管理员用户名已被其他账号使用（已停用账号的用户名也不会再分配），无法通过；"
    "请驳回，并在原因中请申请人换一个用户名重新注册"
)
CREDIT_CODE_TAKEN_REJECT = (
    "申请人填写的统一社会信用代码已被其他单位使用，无法通过；"
    "请驳回，并在原因中说明该代码已有单位使用（如果就是那个单位，请申请人联系它的管理员开通账号）"
)
SAME_NAME_UNDER_PARENT = (
    "“{parent}”下已有同名单位“{name}”，通过后会有两个同名单位，所以不能通过。"
    "如果就是这个单位：请驳回这份申请并说明已有该单位，再给已有单位核对或补填统一社会信用代码、"
    "为申请人开通管理员账号；如果是另一个单位：请先给已有单位改名以示区别，再通过。"
)
TOO_MANY_TRIES = "提交次数过多，请重新获取短信验证码后再试"
ALREADY_DECIDED = "这份注册申请已经处理过了"
SUBMIT_CONFLICT = "提交的信息刚刚被其他申请占用，请稍后重试"
# In place of the superior's name once that unit is deleted (a decided registration keeps its record).
SUPERIOR_GONE = "—"

# Chat (backend.registration.chat): the registrations awaiting the actor's decision, a card, the decision.
CHAT_TITLE = "待审批的单位注册申请"
CHAT_COLUMNS = ["单位名称", "类型", "申请加入", "管理员", "提交时间"]
CHAT_NONE = "没有待审批的单位注册申请。"
CHAT_NO_MORE = "没有更多待审批的单位注册申请了。"
CHAT_BUTTON_MORE = "更多"
CHAT_CARD_TITLE = "单位注册申请：{unit}"
CHAT_STATUS_LABELS = {"pending": "待审批", "approved": "已通过", "rejected": "已驳回"}
CHAT_FIELD_STATUS = "状态"
CHAT_FIELD_UNIT = "单位名称"
CHAT_FIELD_TYPE = "类型"
CHAT_FIELD_CREDIT_CODE = "统一社会信用代码"
CHAT_FIELD_REGION_CODE = "区划代码"
CHAT_FIELD_LEGAL_REP = "法定代表人"
CHAT_FIELD_ADMIN = "管理员"
CHAT_FIELD_ADMIN_USERNAME = "管理员用户名"
CHAT_FIELD_SUPERIOR = "申请加入"
CHAT_FIELD_SUBMITTED = "提交时间"
CHAT_FIELD_DECIDED = "审批时间"
CHAT_FIELD_REASON = "驳回原因"
CHAT_PERSON = "{name}（{number}）"  # a name with its masked ID number or phone
CHAT_ON_APPROVE = (
    "通过后：在“{superior}”下新建{type}“{unit}”，并开通它的管理员账号 {username}"
    "（密码是申请人注册时自己设置的），结果以短信通知申请人。"
)
CHAT_BUTTON_APPROVE = "通过"
CHAT_BUTTON_REJECT = "驳回"
CHAT_REJECT_TITLE = "驳回单位注册申请：{unit}"
CHAT_REJECT_HINT = "请填写驳回原因（1 到 100 个字），它会以短信发给申请人。"
CHAT_APPROVED = "已通过“{unit}”的注册申请，单位和管理员账号 {username} 已开通，结果已以短信通知申请人。"
CHAT_REJECTED = "已驳回“{unit}”的注册申请，驳回原因已以短信发给申请人。"
