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

const GAPS_MAX = 200; // gaps on screen (~30 bytes each) before the list is sent whole once, without them

/** The same value on screen: the same object, a list of the same objects, or the same JSON. */
function sameValue(a, b) {
  if (a === b) return true;
  if (typeof b !== 'object' || b === null || typeof a !== 'object' || a === null) return false;
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => x === b[i])) return true; // blocks kept as they were
  return JSON.stringify(a) === JSON.stringify(b);
}

/** The same message on screen (a view is rebuilt on each render: its fields are compared). */
function sameView(a, b) {
  const keys = Object.keys(b);
  if (!a || Object.keys(a).length !== keys.length) return false;
  return keys.every((k) => sameValue(a[k], b[k]));
}

/**
 * What setData needs to bring the chat's list from `shown` (what the last call left on screen; null
 * before the first) to `views`: only the messages that changed or are new, by path ("messages[7]"),
 * not the whole history again (up to 400,000 characters; WeChat asks for under 256 KB a call). A
 * message that left the list (the history dropped it, or it moved to the end) leaves a small gap at
 * its place ({ id, gone }: drawn as nothing), since setData cannot remove an item by path; past
 * GAPS_MAX gaps the list goes whole once, without them. `force`: ids sent again even when unchanged
 * (a form whose confirm was cancelled shows as not sent). Answers { data, shown, scroll }; scroll:
 * a message came at the end, or the last one's answer changed (not a status or the network).
 */
function screenPatch(shown, views, force) {
  const again = force || [];
  const before = (shown || []).filter((v) => !v.gone);
  const last = before[before.length - 1];
  const newest = views[views.length - 1];
  const scroll =
    !!newest && (!last || last.id !== newest.id || (newest.role === 'assistant' && !sameValue(last.blocks, newest.blocks)));
  const data = {};
  const next = [];
  let gaps = 0;
  let j = 0;
  (shown || []).forEach((old, i) => {
    const item = views[j];
    if (!old.gone && item && item.id === old.id) {
      if (again.indexOf(item.id) >= 0 || !sameView(old, item)) data[`messages[${i}]`] = item;
      next.push(item);
      j += 1;
      return;
    }
    const gap = old.gone ? old : { id: `gap-${i}`, gone: true };
    if (!old.gone) data[`messages[${i}]`] = gap;
    next.push(gap);
    gaps += 1;
  });
  for (; j < views.length; j += 1) {
    data[`messages[${next.length}]`] = views[j];
    next.push(views[j]);
  }
  if (!shown || gaps > GAPS_MAX || (gaps && !views.length)) return { data: { messages: views }, shown: views.slice(), scroll };
  return { data, shown: next, scroll };
}

module.exports = { view, messageView, screenPatch, GAPS_MAX };
