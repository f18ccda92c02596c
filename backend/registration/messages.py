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
USERNAME_TAKEN = "该用户名已被使用或正在等待审核（注销的用户名也不会再分配），请换一个"
ADMIN_USERNAME_TAKEN = (
    "申请人填写的管理员用户名已被其他账号使用（注销的用户名也不会再分配），无法通过；"
    "请驳回，并在原因中请申请人换一个用户名重新注册"
)
TOO_MANY_TRIES = "提交次数过多，请重新获取短信验证码后再试"
ALREADY_DECIDED = "这份注册申请已经处理过了"
SUBMIT_CONFLICT = "提交的信息刚刚被其他申请占用，请稍后重试"
# In place of the superior's name once that unit is deleted (a decided registration keeps its record).
SUPERIOR_GONE = "—"
