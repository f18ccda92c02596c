/**
 * The chat history of one account, kept in storage so it survives closing the app: the newest
 * `limit` messages, and no more than `maxChars` of JSON (fewer when storage is full). Messages
 * still sending when the app closed come back as failed, so they can be sent again (with the
 * same idempotency key). The text left in the input is kept too, per account.
 */
const { defaultStorage } = require('./storage');

const PREFIX = 'cwt:history:';
const DRAFT_PREFIX = 'cwt:draft:';

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
    /** Returns what stays on screen; when storage refuses them all, the newest that fit are kept. */
    save(owner, messages) {
      const kept = trim(messages);
      let stored = kept;
      while (!store.set(PREFIX + owner, stored) && stored.length > 1) stored = stored.slice(Math.ceil(stored.length / 2));
      return kept;
    },
    /** The text left in the input (kept when the chat closes, e.g. for a new login after a 401). */
    draft(owner) {
      const text = store.get(DRAFT_PREFIX + owner, '');
      return typeof text === 'string' ? text : '';
    },
    saveDraft(owner, text) {
      if (text) store.set(DRAFT_PREFIX + owner, String(text));
      else store.remove(DRAFT_PREFIX + owner);
    },
    clear(owner) {
      store.remove(PREFIX + owner);
      store.remove(DRAFT_PREFIX + owner);
    },
    trim,
  };
}

module.exports = { createHistory, PREFIX, DRAFT_PREFIX };
