/**
 * Chinese texts of the client itself (the server's messages are shown as they come). Texts that only
 * a subpackage shows live there (its services or page), off the main package.
 */
module.exports = {
  NETWORK: '网络不给力，请检查网络后重试',
  TIMEOUT: '网络超时，请稍后重试',
  OFFLINE_GAVE_UP: '长时间没有网络，请恢复网络后重试',
  SERVER: '服务器繁忙，请稍后重试',
  BAD_ANSWER: '服务器的答复无法识别，请稍后重试',
  SESSION_EXPIRED: '登录已过期，请重新登录',
  // a 401 after a password change whose answer was lost: the server may have changed it (and ended the session)
  PASSWORD_MAYBE_CHANGED: '修改密码时网络中断，新密码可能已经生效，请用新密码登录',
  UNSUPPORTED_BLOCK: '这条消息需要新版小程序才能显示',
  SEND_FAILED: '发送失败，点击重发',
  CLOSED_UNANSWERED: '小程序关闭前没有收到答复', // a message still sending when the app closed (shown with "（点击重发）")
  RETRY_ALL: (count) => `${count} 条消息没有发出 · 全部重发`, // the chat's one tap for several failed messages
  SENDING: '发送中…',
  TEXT_TOO_LONG: '最多 200 字',
  WAITING_NETWORK: '等待网络…',
  // the chat offline: what waits goes when the network is back, while the app is open (utils/history marks it failed after)
  OFFLINE_BANNER: '当前没有网络：已显示上次的结果，恢复后自动发送（关闭小程序后需点击重发）',
  REQUIRED: '请填写',
  BAD_PHONE: '请输入正确的 11 位手机号',
  BAD_CONTACT_PHONE: '请输入 11 位手机号码，或带区号的固定电话（如 0871-65150432）', // a form's phone field
  BAD_ID_NUMBER: '身份证号码不正确（应为 18 位，出生日期有效，且校验位正确）', // the server's words
  BAD_NUMBER: '请输入数字',
  BAD_DATE: '日期格式应为 YYYY-MM-DD',
  BAD_CODE: '请输入 6 位验证码',
  PASSWORD_MISMATCH: '两次输入的密码不一致',
  PASSWORD_RULE: '密码为 8-32 位，包含大写字母、小写字母、数字、符号中的至少三种',
  NOT_YET: '该功能暂未开放',
  SCAN_EMPTY: '没有识别到二维码内容',
  SCAN_TOO_LONG: '二维码内容过长，无法查询',
  SCAN_INVALID: '二维码无法识别或已损坏，请在电脑上刷新后重新扫描',
  SCAN_NOT_PAIRING: '这不是村务通读卡程序的二维码',
  SCAN_ENROL_LOGIN_FIRST: '登记办公电脑需要管理员账号，请先登录再扫码',
  LABELLED: (label, text) => (label ? `${label}：${text}` : text), // "信息卡：王家湾村茶叶合作社"
  ROW_DETAIL: '详细内容',
  IMAGE_GONE: '图片不存在或已删除', // a "review.image" button whose image the server no longer has (404)
  IMAGE_NEEDS_NETWORK: '查看图片需要网络，请联网后重试',
  IMAGE_LOADING: '图片加载中',
  GOT_IT: '知道了',
};
