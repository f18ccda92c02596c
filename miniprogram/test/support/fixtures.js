/** Sample server answers shaped exactly like backend/chat/protocol.py, the auth schemas and the pairing view. */
const UNIT = { id: 6, unit_id: 4, unit_name: '白沙镇', role: 'admin', role_label: '管理员', finance_access: 'all' };

const SESSION = {
  account_id: 6,
  username: 'demo_town_admin',
  name: '贾红',
  must_change_password: false,
  sms_check_required: false,
  unit: UNIT,
  units: [UNIT],
  expires_in: 1800,
};

/** Store a logged-in session the way services/session keeps it. */
function signIn(extra) {
  const info = Object.assign({}, SESSION, extra || {});
  global.wx.setStorageSync('cwt:session', { token: 'tok-1', info });
  return info;
}

const EVERY_BLOCK = {
  blocks: [
    { type: 'text', text: '白沙镇共有 3 个村。' },
    {
      type: 'card',
      title: '王家湾村',
      subtitle: '白沙镇',
      fields: [
        { label: '户数', value: '128' },
        { label: '人口', value: '502' },
      ],
      actions: [
        { label: '本村汇总', intent: 'summary', params: { unit_id: 7 }, style: 'primary' },
        { label: '重置密码', intent: 'account.reset_password', params: { account_id: 9 }, style: 'danger', confirm: '确定重置该账号的密码？' },
      ],
    },
    {
      type: 'table',
      title: '下级单位',
      columns: ['名称', '类型'],
      rows: [
        ['王家湾村', '村'],
        ['李家坪村', '村'],
      ],
      row_actions: [{ label: '王家湾村', intent: 'unit.show', params: { unit_id: 7 } }, null],
      total: 12,
      more: { label: '更多', intent: 'unit.children', params: { unit_id: 4, cursor: 2 } },
    },
    { type: 'chart', title: '各村户数', kind: 'bar', labels: ['王家湾村', '李家坪村'], series: [{ name: '户数', values: [128, 64] }], unit: '户' },
    {
      type: 'map',
      title: '合作社分布',
      pins: [{ latitude: 25.1, longitude: 102.7, title: '王家湾种植社', subtitle: '种植', action: { label: '王家湾种植社', intent: 'coop.show', params: { id: 3 } } }],
    },
    {
      type: 'form',
      title: '新增经办人',
      fields: [
        { name: 'name', label: '姓名', kind: 'text' },
        { name: 'phone', label: '手机号', kind: 'phone' },
      ],
      submit: { label: '添加', intent: 'agent.add', params: { unit_id: 4 } },
    },
    { type: 'qr', title: '配对二维码', payload: 'cwt-pair:ABCD-1234' },
    { type: 'notice', level: 'warning', text: '数据每晚更新。' },
  ],
  suggestions: [
    { label: '本乡汇总', text: '汇总' },
    { label: '下级单位', action: { label: '下级单位', intent: 'unit.children', params: { unit_id: 4 } } },
  ],
  context: '白沙镇',
};

/** A pairing as the phone sees it after scanning (docs/card-protocol.md, backend/pairing/actions.py view()). */
const PAIRING = {
  pairing_id: 'p-1',
  state: 'scanned',
  version: 2,
  action: 'login',
  action_label: '卡登录',
  user_code: 'ABCD-2345',
  expires_at: '2026-11-22T20:35:00+00:00',
  device: { name: '王家湾村委会办公室', unit: { id: 7, name: '王家湾村' } },
  confirmed_by: null,
  result: null,
  error: null,
};

/** An enrolled office PC as the devices API answers it (backend/devices/serializers.py; enrolled_by left out). */
const DEVICE = {
  id: 3,
  device_id: 'abc',
  name: '王家湾村委会办公室',
  hostname: 'DESKTOP-WJW01',
  unit: { id: 7, name: '王家湾村' },
  status: 'active',
  status_label: '已登记',
  fingerprint: '3F2A-9C41-07BE-D5E8',
  enrolled_at: '2026-11-22T20:40:00+00:00',
};

module.exports = { UNIT, SESSION, signIn, EVERY_BLOCK, PAIRING, DEVICE };
