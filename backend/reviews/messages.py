"""Chinese texts of the manual review domain (R5)."""

SUBMITTED = "申请已提交。上级单位管理员审核后，结果会以短信发送到您填写的手机号。"
MULTIPART_REQUIRED = "请以表单（multipart/form-data）方式提交申请和图片"
BODY_TOO_LARGE = "提交的内容过大：最多 3 张图片，每张不超过 4 MB"
FORM_UNREADABLE = "无法读取提交的表单，请重新选择图片后再试"
IMAGE_COUNT = "请上传 1 到 3 张图片"
IMAGE_TYPE = "第 {index} 个文件不是 JPG 或 PNG 图片，请重新选择"
IMAGE_TOO_LARGE = "第 {index} 张图片超过 4 MB，请压缩后再上传"
IMAGE_TOO_MANY_PIXELS = "第 {index} 张图片的分辨率过高（超过 5000 万像素），请压缩或截图后再上传"
IMAGE_UNREADABLE = "第 {index} 张图片已损坏或无法识别，请重新选择"
USERNAME_REQUIRED = "找回密码请填写用户名"
CREDIT_CODE_REQUIRED = "找回单位账号请填写统一社会信用代码"
FIELD_DUPLICATED = "此项只能填写一次"
THROTTLED = "提交过于频繁，请稍后再试"
ALREADY_DECIDED = "该申请已经审核过，不能再次审核"
TARGET_GONE = "申请对应的账号已停用或不存在，只能驳回"
UNIT_ADMIN_CHANGED = "该单位的管理员账号刚被另一项操作开通、变更或停用，本次未做任何更改；请重新打开申请核对后再审核"
CANNOT_MANAGE = "您不能管理申请对应的账号（它还属于您管辖范围以外的单位，或角色不低于您）"
NOT_SELF = "不能审核与自己账号有关的申请"
APPROVER_CHANGED = "您的账号、单位或角色刚被更改，已不能审核这项申请，本次未做任何更改；如有疑问请联系上级管理员"
IMAGE_MISSING = "图片文件已不存在"
# The reason of a request closed unanswered (backend.reviews.retention), sent as a rejection's (the
# review_rejected SMS puts it between "原因：" and "。").
EXPIRED_REASON = "提交后 {days} 天内无人处理，申请已自动关闭（并非审核不通过），如仍需办理请重新提交"
# In place of the unit's name once that unit is deleted (a decided request keeps its record).
UNIT_GONE = "—"

KIND_LABELS = {"password": "找回密码", "username": "找回用户名", "unit": "找回单位账号"}
STATUS_LABELS = {"pending": "待审核", "approved": "已通过", "rejected": "已驳回"}

ON_APPROVE_RESET = (
    "通过后：账号 {username} 生成新的临时密码，以短信发到申请人填写的手机号，登录后须修改；该账号的所有登录会被结束。"
)
ON_APPROVE_HAND_OVER = (
    "通过后：单位管理员账号 {username} 交给申请人（姓名、手机号、身份证号改为申请人的），"
    "并生成新的临时密码以短信发给申请人；该账号的所有登录会被结束。"
)
ON_APPROVE_NEW_ADMIN = "通过后：为申请人新开一个“{unit}”的管理员账号，临时密码以短信发给申请人。"
ON_APPROVE_UNKNOWN = "申请对应的账号已不可用，只能驳回。"

# Chat (backend.reviews.chat): the admins' pending list, a request's card and its decision.
CHAT_TITLE = "待审核的申请"
CHAT_TITLE_KIND = "待审核的{kind}申请"
CHAT_COLUMNS = ["类型", "申请人", "单位", "提交时间"]
CHAT_NONE = "没有待审核的申请。"
CHAT_NONE_KIND = "没有待审核的{kind}申请。"
CHAT_NO_MORE = "没有更多待审核的申请了。"
CHAT_BUTTON_MORE = "更多"
CHAT_SUGGEST_REGISTRATIONS = "待审批的注册"  # "待审批" asked: the unit registrations waiting too
CHAT_CARD_TITLE = "{kind}申请：{name}"
CHAT_FIELD_KIND = "类型"
CHAT_FIELD_STATUS = "状态"
CHAT_FIELD_NAME = "申请人"
CHAT_FIELD_PHONE = "手机号"
CHAT_FIELD_ID_NUMBER = "身份证号"
CHAT_FIELD_UNIT = "单位"
CHAT_FIELD_ACCOUNT = "账号"
CHAT_FIELD_STATEMENT = "情况说明"
CHAT_FIELD_IMAGES = "图片"
CHAT_FIELD_SUBMITTED = "提交时间"
CHAT_FIELD_DECIDED = "审核时间"
CHAT_FIELD_REASON = "驳回原因"
# The identity checks (backend.reviews.schemas.IdentityChecks): what is compared, and how it came out.
CHAT_CHECK_LABELS = {"name": "姓名核对", "id_number": "身份证号核对", "phone": "手机号核对"}
CHAT_CHECK_MATCH = "一致"
CHAT_CHECK_MISMATCH = "不一致"
CHAT_CHECK_NOTHING = "无记录"
CHAT_IMAGES = "{count} 张"
CHAT_IMAGES_REMOVED = "已于 {at} 删除"
CHAT_BUTTON_APPROVE = "通过"
CHAT_BUTTON_REJECT = "驳回"
CHAT_BUTTON_IMAGE = "查看图片{index}"
CHAT_REJECT_TITLE = "驳回{kind}申请：{name}"
CHAT_REJECT_HINT = "请填写驳回原因（1 到 200 个字），它会以短信发给申请人。"
CHAT_APPROVED = "已通过{name}的{kind}申请，新的临时密码已以短信发到申请人填写的手机号。"
CHAT_REJECTED = "已驳回{name}的{kind}申请，驳回原因已以短信发给申请人。"
CHAT_IMAGE_IN_APP = "申请的图片请在小程序里点“查看图片”按钮打开，聊天里不发送图片。"
