/** Chinese texts of the office-PC screens: enrolment, the device list, pairing (the server's own messages are shown as they come). */
module.exports = {
  // enrolment
  ENROL_COMPARE: '请核对：下面的指纹应与电脑屏幕上读卡程序显示的指纹完全一致。不一致请不要登记。',
  ENROL_NAME_REQUIRED: '请填写电脑名称',
  ENROL_NAME_TOO_LONG: '电脑名称不能超过 50 个字',
  ENROL_UNIT_REQUIRED: '请选择电脑所属单位',
  ENROL_DONE: '登记完成，电脑上的读卡程序会自动继续',
  ENROL_NO_TOKEN: '缺少登记二维码，请重新扫码',
  ADMIN_ONLY: '只有管理员可以登记或撤销办公电脑',
  // device list
  SCAN_NOT_ENROL: '这不是办公电脑的登记二维码',
  DEVICES_EMPTY: '本单位还没有登记办公电脑',
  REVOKE_TITLE: '撤销登记',
  REVOKE_CONFIRM: (name) => `撤销后，“${name}”上的读卡程序将不能再用于卡登录、绑卡和实名认证，需重新登记才能使用。`,
  REVOKED: '已撤销登记',
  // pairing
  PAIR_NO_TOKEN: '缺少配对二维码，请重新扫码',
  PAIR_COMPARE: '请核对电脑屏幕上显示的配对码与下面一致',
  PAIR_WAITING_CARD: '已确认。请在电脑上插入IC卡，按提示输入PIN码',
  PAIR_WAITING_NETWORK: '网络已断开，恢复后会自动继续',
  PAIR_CANCELLED: '已取消，电脑上的操作不会继续',
  PAIR_EXPIRED: '二维码已过期，请在电脑上刷新后重新扫码',
  PAIR_FAILED: '操作未完成',
  PAIR_LOGGED_IN: '卡登录成功',
  PAIR_DONE: '操作完成',
  PAIR_LOGIN_REQUIRED: '请先登录村务通，再扫码绑定IC卡或实名认证',
  CONFIRMED_BY: (who) => `确认人：${who}`,
};
