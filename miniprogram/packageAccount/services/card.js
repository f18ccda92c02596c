/** The card and real-name part of "我的" (C5-C7): what the profile says, in words. */
const { formatTime } = require('../../utils/format');

const KIND_LABELS = { legal_rep: '法人卡', operator: '操作员卡' };
const REALNAME_LABELS = { high: '高', medium: '中', none: '未认证' };

const texts = {
  BIND_HOW: '在办公电脑的读卡程序上选择“绑定IC卡”，然后扫码',
  UNBIND_TITLE: '解除IC卡绑定',
  UNBIND_CONFIRM: '解除后不能再用这张IC卡登录本账号，实名认证等级也可能降低。需要时可在办公电脑上重新绑定。',
  UNBOUND: '已解除IC卡绑定',
  ACTIVATE_PROMPT: '这个账号由IC卡登录自动创建，还没有登录密码。设置密码后，也可以用账号和密码登录。',
  ACTIVATE_DONE: '密码已设置，账号已激活',
  REALNAME_HINT: '用IC卡实名认证可达到“高”等级：在办公电脑的读卡程序上选择“实名认证”，然后扫码',
};

/** profile (GET /api/profile) -> { card: { number, kindLabel, boundText } | null, realnameLabel, needsActivation } */
function cardSection(profile, nowMs) {
  const p = profile || {};
  const card = p.card || null;
  const bound = card ? Date.parse(card.bound_at || '') : NaN;
  return {
    card: card
      ? {
          number: card.card_number || '',
          kindLabel: card.kind_label || KIND_LABELS[card.kind] || '',
          boundText: isFinite(bound) ? formatTime(bound, nowMs) : '',
        }
      : null,
    realnameLabel: REALNAME_LABELS[p.realname_level] || REALNAME_LABELS.none,
    realnameHigh: p.realname_level === 'high',
    needsActivation: !!p.needs_activation,
  };
}

module.exports = { cardSection, KIND_LABELS, REALNAME_LABELS, texts };
