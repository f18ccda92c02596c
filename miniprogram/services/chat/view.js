/**
 * Conversation messages into what the chat page's WXML shows (times, status texts, markers):
 * the buttons of an action still sending are marked busy (disabled until its answer comes), and
 * a form block that was sent shows its values and stays sent (or, refused, the server's messages).
 */
const { formatTime, offlineLabel } = require('../../utils/format');
const msg = require('../../utils/messages');
const { actionKey } = require('./conversation');

function statusText(message, online) {
  if (message.status === 'failed') return message.error ? `${message.error}（点击重发）` : msg.SEND_FAILED;
  if (message.status === 'refused') return message.error || msg.SERVER;
  if (message.status === 'sending') return online ? msg.SENDING : msg.WAITING_NETWORK;
  return '';
}

/** The keys of the actions still sending ({} when none). */
function sendingActions(messages) {
  const busy = {};
  messages.forEach((m) => {
    if (m.status === 'sending' && m.request && m.request.action) busy[actionKey(m.request.action)] = true;
  });
  return busy;
}

function markBusy(act, busy) {
  return act && busy[actionKey(act)] ? Object.assign({}, act, { busy: true }) : act;
}

/** One block as shown: busy buttons, a sent form's values. Untouched blocks are passed as they are. */
function blockView(block, forms, busy) {
  if (block.type === 'card' && block.actions.some((a) => busy[actionKey(a)])) {
    return Object.assign({}, block, { actions: block.actions.map((a) => markBusy(a, busy)) });
  }
  if (block.type === 'table' && block.more && busy[actionKey(block.more)]) {
    return Object.assign({}, block, { more: markBusy(block.more, busy) });
  }
  const form = block.type === 'form' && forms && forms[block.key];
  if (form) {
    return Object.assign({}, block, {
      values: Object.assign({}, block.values, form.values),
      sent: !!form.sent,
      errors: form.errors || {},
      refusal: form.refusal || '',
      refused: form.refused || '',
    });
  }
  return block;
}

function messageView(message, now, online, busy) {
  if (message.role === 'user') {
    return {
      id: message.id,
      role: 'user',
      content: [{ type: 'text', data: message.text }],
      timeText: formatTime(message.time, now),
      status: message.status,
      statusText: statusText(message, online),
    };
  }
  const marks = busy || {};
  const blocks = message.blocks || [];
  return {
    id: message.id,
    role: 'assistant',
    blocks: message.forms || Object.keys(marks).length ? blocks.map((b) => blockView(b, message.forms, marks)) : blocks,
    offline: !!message.offline,
    offlineText: message.offline ? offlineLabel(message.cachedAt || message.time, now) : '',
    timeText: formatTime(message.time, now),
  };
}

function view(messages, now, online) {
  const busy = sendingActions(messages);
  return messages.map((m) => messageView(m, now, online, busy));
}

module.exports = { view, messageView };
