"""Chinese texts of card authentication, card login, binding and real-name by card (C4-C7)."""

UNTRUSTED = "这张卡的证书不是受信任的发卡机构签发的"
NO_ISSUER_CONFIGURED = "服务器尚未配置发卡机构证书，暂不能使用卡登录，请联系系统管理员"
ISSUER_UNREADABLE = "服务器的发卡机构证书文件无法读取，暂不能使用IC卡，请联系系统管理员"
EXPIRED = "这张卡的证书不在有效期内，请到发卡机构更新"
KEY_USAGE = "这张卡的证书不能用于身份认证"
SIGNATURE_INVALID = "卡的签名校验失败，请重新插卡后再试"
NONCE_INVALID = "认证请求已过期或已使用，请在读卡程序上重新操作"
PROFILE_INVALID = "卡内证书缺少持卡人或单位信息，无法使用"
CERTIFICATE_MALFORMED = "卡内证书格式不正确"
HOLDER_MISMATCH = "卡的持卡人姓名或证件号码与当前账号不一致"
ACCOUNT_NO_ID_NUMBER = "您的账号还没有登记证件号码：请先在“我的”里填写证件类型和证件号码，再绑定IC卡或进行实名认证"
CARD_HOLDER_CHANGED = "这张卡的持卡人或卡类型与绑定时登记的不一致，不能登录，请联系管理员核实"
ACCOUNT_OUTSIDE_UNIT = "这张卡绑定的账号已不属于本单位，不能用卡登录，请联系管理员核实"
OWN_ACCOUNT_OUTSIDE_UNIT = "您的账号不属于卡上的单位，不能绑定这张卡，请联系管理员把您的账号加入该单位"
ACCOUNT_NAME_DIFFERS = (
    "您在本单位的账号姓名与卡上的持卡人姓名不一致：请先用账号密码登录，在“我的”里更正姓名（或请管理员更正），再用卡登录"
)
UNIT_UNKNOWN = "卡上的单位尚未在系统中登记，请先办理单位登记"
UNIT_OUTSIDE_SCOPE = "卡上的单位不在这台电脑所属单位的范围内，请到本单位的电脑上操作"
ALREADY_BOUND = "这张卡已绑定其他账号"
ACCOUNT_HAS_CARD = "当前账号已绑定一张卡，请先解除绑定"
ADMIN_TAKEN = "本单位已有管理员账号，且持卡人与其身份不一致，请联系上级管理员核实"
OTHER_CARD_BOUND = (
    "持卡人的账号已绑定另一张卡：请先用那张卡或账号密码登录，在“我的”里解绑，再用这张卡；"
    "那张卡丢失又没有密码的，请已绑定IC卡的上级管理员为您解绑"
)
CARD_REPLACED = "这张卡已换成同一持卡人的新卡，不能再登录；请使用新卡"
ACCOUNT_INACTIVE = "这张卡绑定的账号已停用"
HOLDER_DEACTIVATED = "您在本单位的账号已停用，不能用卡登录，请联系管理员"
OWN_ACCOUNT_INACTIVE = "您的账号已停用，不能绑定IC卡或进行实名认证"
USERNAME_TAKEN = "按卡号生成的用户名已被占用，请联系管理员处理"
HOLDER_PROTECTED = "该账号已绑定IC卡，您的账号未绑定IC卡，不能修改或删除它"
NOT_BOUND = "您的账号尚未绑定IC卡"
ACCOUNT_HAS_NO_CARD = "该账号没有绑定IC卡"
NOT_AWAITING_ACTIVATION = "账号已激活，如需修改密码请使用“修改密码”"

LOGIN_DONE = "卡登录成功"
BIND_DONE = "IC卡绑定成功"
REALNAME_DONE = "实名认证成功，认证等级：高"

KIND_LABELS = {"legal_rep": "法人卡", "operator": "操作员卡"}
AUTO_ADMIN_NAME = "单位管理员"
