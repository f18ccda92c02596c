"""Every text the card service shows to a person, in one place (Chinese)."""

from __future__ import annotations

WINDOW_TITLE = "村务通 IC卡服务"

# Start and enrolment
STARTING = "正在启动…"
ENROL_REFRESHING = "登记二维码已过期，正在刷新…"
ENROL_TITLE = "本机尚未登记"
ENROL_HINT = "请管理员用村务通小程序扫描二维码，登记本机并选择所属单位。"
ENROL_FINGERPRINT = "本机指纹：{fingerprint}（请核对手机上显示的指纹）"
ENROL_WAITING = "等待管理员确认…"
ENROL_KEY_CREATED = "已为本机生成设备密钥。"
ENROLLED = "本机已登记：{name}（{unit}）"
# The server out of reach at start or during enrolment (a PC up before its network): tried again
# less and less often, up to a cap; 重试 tries at once.
START_UNREACHABLE = "无法连接服务器（{since}），{seconds}秒后自动重试。请检查本机网络，网络恢复后可点击“重试”立即连接。"
START_RECONNECTING = "正在重新连接服务器…（此前无法连接，{since}）"
START_FAILED = "连接服务器失败：{message}。{seconds}秒后自动重试，也可点击“重试”立即连接。"
SINCE_MOMENT = "已持续不到1分钟"
SINCE_MINUTES = "已持续{minutes}分钟"
SINCE_HOURS = "已持续{hours}小时{minutes}分钟"
REVOKED_TITLE = "本机已被停用"
# A revoked key stays revoked (it may have been copied): enrolling again takes a new key.
REVOKED_HINT = (
    "管理员已停用本机。如需重新启用：关闭本程序，删除设备密钥文件 {path}，再启动本程序，请管理员扫码重新登记。"
)
KEY_UNUSABLE_TITLE = "本机设备密钥无法使用"
KEY_UNUSABLE = (
    "无法读取或保存本机的设备密钥文件：{path}。"
    "请从备份恢复该文件后重新启动；如无备份，请删除该文件后重新启动，并请管理员重新登记本机。"
)
KEY_UNREADABLE = (
    "没有权限读取本机的设备密钥文件：{path}。"
    "请检查该文件的权限（须由运行本程序的用户读取，其他用户不能读取）后重新启动；请勿删除该文件，否则需要重新登记本机。"
)
KEY_FOLDER_UNWRITABLE = (
    "无法在文件夹 {folder} 中保存本机的设备密钥。"
    "请确认该文件夹可以写入，或用 --home 指定另一个文件夹，然后重新启动本程序。"
)

# Readers and cards
NO_READER = "未检测到读卡器，请连接读卡器。"
READER_NAMED_MISSING = "未检测到指定的读卡器“{name}”，请连接该读卡器。"
READER_NAMED_MISSING_OTHERS = "未检测到指定的读卡器“{name}”，请连接该读卡器。已连接的读卡器（{readers}）不会使用。"
READER_NO_CARD = "读卡器：{reader}，请插入IC卡。"
READER_WITH_CARD = "读卡器：{reader}，已插入IC卡。"
CARD_READING = "正在读取IC卡…"
CARD_HOLDER = "持卡人：{name}　卡号：{card_number}"
CARD_UNREADABLE = "无法读取这张IC卡的证书。"
CARD_UNREADABLE_HINT = "请拔出IC卡后重新插入；如仍无法读取，请关闭其他正在使用这张卡的程序，或换一台读卡器。"
CARD_NOT_USABLE = "这张IC卡中没有村务通可用的证书。"
CARD_NOT_USABLE_HINT = "请插入发卡机构发放的单位IC卡（法人卡或操作员卡）。"
CARD_MUTE = "IC卡没有应答，无法读取。"
CARD_MUTE_HINT = (
    "请拔出IC卡，确认插卡方向正确（芯片一端先插入读卡器）后重新插入；如仍无法读取，请擦拭芯片后再试，或换一台读卡器。"
)
SERVICE_LOST = "智能卡服务（PC/SC）已停止，正在等待恢复…"
CARD_REMOVED_DURING_ACTION = "IC卡已拔出，操作已取消。请重新插入IC卡后再试。"
INSERT_CARD_FIRST = "请先插入IC卡。"
CARD_MUTE_DURING_ACTION = "IC卡没有应答，操作已取消。请拔出IC卡，确认插卡方向正确后重新插入，再重新办理。"
CARD_CHANGED = "读卡器中的IC卡已更换，操作已取消，未使用这张卡。请插入原来的IC卡后重新办理。"

# Actions
ACTION_LABELS = {"login": "卡登录", "bind": "绑定IC卡", "realname": "实名认证"}
CHOOSE_ACTION = "请选择要办理的业务。"
CANCEL = "取消"
BACK = "返回"
CONFIRM = "确定"
RETRY = "重试"

# Pairing
PAIRING_CREATING = "正在生成二维码…"
PAIRING_SCAN = "请用村务通小程序扫描二维码，并核对手机上的验证码。"
PAIRING_USER_CODE = "验证码"
PAIRING_COUNTDOWN = "二维码剩余 {minutes}:{seconds:02d}"
PAIRING_REFRESHING = "二维码已过期，正在刷新…"
PAIRING_SCANNED = "手机已扫码，请在手机上确认。"
PAIRING_CONFIRMED_BY = "{name}（{username}）已在手机上确认"
PAIRING_CONFIRMED_ANONYMOUS = "手机已确认"
CONFIRM_TIME_EXPIRED = "手机扫码后未在规定时间内确认，本次业务已结束。请重新选择业务后再扫码。"
PAIRING_CANCELLED = "手机上已取消。"
PAIRING_ENDED = "本次业务已结束（二维码已过期或手机上已取消），请返回后重新办理。"
# The server's own text of a 409 pairing_state is for the phone ("look at the PC"): the PC says what happened.
PAIRING_STATE_CHANGED = (
    "办理期间本次业务的状态已变化（如手机上已取消或已过期），本次提交未被受理。"
    "请在手机上查看结果，需要时重新选择业务后再办理。"
)
PAIRING_UNATTENDED = "二维码多次过期未被扫描，已停止办理。需要时请重新选择业务。"
OUTCOME_UNKNOWN = "网络中断，无法确认办理结果。IC卡签名已发出，请在手机上查看是否已办理，未办理时再重新办理。"

# PIN and signing
PIN_PROMPT = "请输入IC卡PIN码："
PIN_EMPTY = "请输入PIN码。"
PIN_FORMAT = "PIN码为6到8位数字或字母，请重新输入。"
PIN_WRONG = "PIN码错误，还可尝试 {retries} 次。"
PIN_BLOCKED = "PIN码已锁定，请联系发卡机构解锁。"
PIN_TIME_EXPIRED = "输入PIN码的时间已过，本次业务已结束。请重新选择业务，用手机扫码确认后再输入PIN码。"
PIN_PAIRING_ENDED = "本次业务已结束（输入PIN码的时间已过，或手机上已取消）。请重新选择业务后再办理。"
PIN_NOT_SENT = "无法连接服务器，PIN码未使用，IC卡未签名。请检查网络后再点“确定”，或点击“取消”。"
SIGNING = "正在用IC卡签名，请勿拔卡…"
SUBMITTING = "正在提交…"
CARD_ERROR = "IC卡操作失败，请重新插卡后再试。"
CHALLENGE_MISMATCH = "服务器要求签名的内容与当前业务不符，已拒绝签名。"

# Results
DONE = "办理成功。"
DONE_WITH_ACCOUNT = "办理成功：{name}（{username}）"
FAILED = "办理失败：{message}"
RESULT_COUNTDOWN = "{seconds}秒后自动返回"

# Network and server errors
NETWORK_ERROR = "无法连接服务器，请检查网络后再试。"
SERVER_ERROR = "服务器暂时不可用，请稍后再试。"
SERVER_RECONNECTING = "与服务器的连接中断，正在重新连接…"
SERVER_UNREACHABLE = "无法连接服务器，已停止等待。请检查网络后点击“重试”重新办理。"
UNEXPECTED_ANSWER = "服务器的应答无法识别。"

# Command line
NO_DISPLAY = "无法打开窗口：没有可用的图形显示（DISPLAY）。"
