/** Conversation messages into what the chat page's WXML shows (times, status texts, markers). */
const { formatTime, offlineLabel } = require('../../utils/format');
const msg = require('../../utils/messages');

function statusText(message, online) {
  if (message.status === 'failed') return message.error ? `${message.error}（点击重发）` : msg.SEND_FAILED;
  if (message.status === 'sending' && !online) return msg.WAITING_NETWORK;
  return '';
}

function messageView(message, now, online) {
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
  return {
    id: message.id,
    role: 'assistant',
    blocks: message.blocks || [],
    offline: !!message.offline,
    offlineText: message.offline ? offlineLabel(message.cachedAt || message.time, now) : '',
    timeText: formatTime(message.time, now),
  };
}

function view(messages, now, online) {
  return messages.map((m) => messageView(m, now, online));
}

module.exports = { view, messageView };
