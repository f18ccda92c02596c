/**
 * The chat history of one account, kept in storage so it survives closing the app: the newest
 * `limit` messages, and no more than `maxChars` of JSON. Messages still sending when the app
 * closed come back as failed, so they can be sent again (with the same idempotency key).
 */
const { defaultStorage } = require('./storage');

const PREFIX = 'cwt:history:';

function createHistory(options) {
  const opts = options || {};
  const store = opts.storage || defaultStorage();
  const limit = opts.limit || 100;
  const maxChars = opts.maxChars || 400000;

  function trim(messages) {
    let kept = messages.slice(-limit);
    while (kept.length > 1 && JSON.stringify(kept).length > maxChars) kept = kept.slice(1);
    return kept;
  }

  return {
    load(owner) {
      const saved = store.get(PREFIX + owner, []);
      if (!Array.isArray(saved)) return [];
      return saved
        .filter((m) => m && typeof m === 'object' && m.id && (m.role === 'user' || m.role === 'assistant'))
        .map((m) => (m.status === 'sending' ? Object.assign({}, m, { status: 'failed' }) : m));
    },
    save(owner, messages) {
      const kept = trim(messages);
      store.set(PREFIX + owner, kept);
      return kept;
    },
    clear(owner) {
      store.remove(PREFIX + owner);
    },
    trim,
  };
}

module.exports = { createHistory, PREFIX };
