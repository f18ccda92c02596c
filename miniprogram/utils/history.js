/**
 * The chat history of one account, kept in storage so it survives closing the app: the newest
 * `limit` messages, and no more than `maxChars` of JSON (fewer when storage is full). Messages
 * still sending when the app closed come back as failed, saying so (msg.CLOSED_UNANSWERED), so
 * they can be sent again (with the same idempotency key). The text left in the input is kept too,
 * per account.
 *
 * One writer per account: the chat page that loaded last claims the history, and a save or draft
 * of an older claim is dropped (a page closed by a relaunch may still get a late answer, or unload
 * after the new page loaded). "退出登录" (clear) ends every claim.
 *
 * All accounts together keep at most `totalChars`: the least recently used other accounts give
 * their oldest messages first; never the current account's, a draft, or a message not yet sent
 * (still sending, or failed: it will be resent). When storage is full, other accounts' sent
 * messages make room, then the newest that fit are kept; if none fits, onFull is asked for room.
 */
const { defaultStorage } = require('./storage');
const config = require('../config/index');
const msg = require('./messages');

const PREFIX = 'cwt:history:';
const DRAFT_PREFIX = 'cwt:draft:';
const WRITER_PREFIX = 'cwt:history-writer:';
const INDEX = 'cwt:history-index'; // [[owner, chars], ...], least recently used first

/** A message the server may not have yet: kept whatever the budget says (it will be resent). */
function unsent(m) {
  return !!m && m.role === 'user' && (m.status === 'sending' || m.status === 'failed');
}

function sizeOf(value) {
  return (JSON.stringify(value) || '').length;
}

let claims = 0;
function newToken() {
  claims += 1;
  return `${Date.now().toString(36)}-${claims}-${Math.floor(Math.random() * 0x100000000).toString(36)}`;
}

function createHistory(options) {
  const opts = options || {};
  const store = opts.storage || defaultStorage();
  const limit = opts.limit || 100;
  const maxChars = opts.maxChars || 400000;
  const totalChars = Math.max(opts.totalChars || config.HISTORY_TOTAL_CHARS, maxChars);
  const onFull = opts.onFull || (() => {});

  function trim(messages) {
    let kept = messages.slice(-limit);
    while (kept.length > 1 && JSON.stringify(kept).length > maxChars) kept = kept.slice(1);
    return kept;
  }

  /** May `token` write `owner`'s history? undefined: nothing is checked. */
  function mayWrite(owner, token) {
    if (token === undefined) return true;
    const writer = store.get(WRITER_PREFIX + owner, '');
    return !writer || writer === token;
  }

  /** The index; none yet (first start of this version) or damaged: the histories in storage. */
  function readIndex() {
    const saved = store.get(INDEX, null);
    if (Array.isArray(saved)) return saved.filter((e) => Array.isArray(e) && typeof e[0] === 'string' && typeof e[1] === 'number');
    return store
      .keys()
      .filter((k) => k.indexOf(PREFIX) === 0)
      .map((k) => [k.slice(PREFIX.length), sizeOf(store.get(k, []))]);
  }

  /** Makes `owner` the most recently used, with `size` (null: as recorded; 0: gone). */
  function touch(index, owner, size) {
    const i = index.findIndex((e) => e[0] === owner);
    const known = i >= 0 ? index.splice(i, 1)[0][1] : 0;
    const now = size === null ? known : size;
    if (now > 0) index.push([owner, now]);
    return index;
  }

  /** Drops the oldest sent messages of `owner` until `excess` characters are freed; returns its new size. */
  function shrink(owner, excess) {
    const list = store.get(PREFIX + owner, []);
    if (!Array.isArray(list)) {
      store.remove(PREFIX + owner);
      return 0;
    }
    let freed = 0;
    const drop = list.map((m) => {
      if (freed >= excess || unsent(m)) return false;
      freed += sizeOf(m) + 1; // and its comma
      return true;
    });
    const kept = list.filter((m, i) => !drop[i]);
    if (!kept.length) {
      store.remove(PREFIX + owner);
      return 0;
    }
    if (kept.length < list.length && store.set(PREFIX + owner, kept)) return sizeOf(kept);
    return sizeOf(list);
  }

  /** Least recently used first, other accounts give their sent messages until all fit in the budget. */
  function withinBudget(index, current) {
    let total = index.reduce((n, e) => n + e[1], 0);
    index.forEach((e) => {
      if (total <= totalChars || e[0] === current) return;
      const size = shrink(e[0], total - totalChars);
      total -= e[1] - size;
      e[1] = size;
    });
    return index.filter((e) => e[1] > 0);
  }

  /** write() again after each other account gave its sent messages (least recently used first). */
  function evictOthers(current, write) {
    const index = readIndex();
    let done = false;
    index.forEach((e) => {
      if (done || e[0] === current) return;
      e[1] = shrink(e[0], Infinity);
      done = write();
    });
    store.set(
      INDEX,
      index.filter((e) => e[1] > 0)
    );
    return done;
  }

  /** Stores the newest of `kept` that fit; returns their size (0: storage refused even the newest). */
  function storeNewest(owner, kept) {
    let stored = kept;
    while (!store.set(PREFIX + owner, stored)) {
      if (stored.length <= 1) return 0;
      stored = stored.slice(Math.ceil(stored.length / 2));
    }
    return sizeOf(stored);
  }

  return {
    load(owner) {
      const saved = store.get(PREFIX + owner, []);
      if (!Array.isArray(saved)) return [];
      return saved
        .filter((m) => m && typeof m === 'object' && m.id && (m.role === 'user' || m.role === 'assistant'))
        .map((m) => (m.status === 'sending' ? Object.assign({}, m, { status: 'failed', error: msg.CLOSED_UNANSWERED }) : m));
    },
    /** The page showing `owner`'s history from now on: its token for save and saveDraft. */
    claim(owner) {
      const token = newToken();
      if (!store.set(WRITER_PREFIX + owner, token)) store.remove(WRITER_PREFIX + owner); // no stale claim left
      store.set(INDEX, touch(readIndex(), owner, null));
      return token;
    },
    /** Returns what stays on screen; when storage refuses them all, the newest that fit are kept. */
    save(owner, messages, token) {
      const kept = trim(messages);
      if (!mayWrite(owner, token)) return kept;
      let size = store.set(PREFIX + owner, kept) ? sizeOf(kept) : 0;
      if (!size && evictOthers(owner, () => store.set(PREFIX + owner, kept))) size = sizeOf(kept);
      if (!size) size = storeNewest(owner, kept);
      if (!size) {
        onFull();
        size = storeNewest(owner, kept);
      }
      const index = readIndex();
      store.set(INDEX, withinBudget(touch(index, owner, size || null), owner));
      return kept;
    },
    /** The text left in the input (kept when the chat closes, e.g. for a new login after a 401). */
    draft(owner) {
      const text = store.get(DRAFT_PREFIX + owner, '');
      return typeof text === 'string' ? text : '';
    },
    saveDraft(owner, text, token) {
      if (!mayWrite(owner, token)) return;
      if (!text) {
        store.remove(DRAFT_PREFIX + owner);
        return;
      }
      const write = () => store.set(DRAFT_PREFIX + owner, String(text));
      if (write() || evictOthers(owner, write)) return;
      onFull();
      write();
    },
    /** "退出登录": the history and the draft go, and no page may write them again until a new claim. */
    clear(owner) {
      store.remove(PREFIX + owner);
      store.remove(DRAFT_PREFIX + owner);
      if (!store.set(WRITER_PREFIX + owner, `cleared-${newToken()}`)) store.remove(WRITER_PREFIX + owner);
      store.set(INDEX, touch(readIndex(), owner, 0));
    },
    trim,
  };
}

module.exports = { createHistory, PREFIX, DRAFT_PREFIX, WRITER_PREFIX, INDEX, unsent };
