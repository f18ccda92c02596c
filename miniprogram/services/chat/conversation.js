/**
 * The conversation on the chat screen, as plain state the page renders:
 *
 * - every message is kept in storage per account (history), so it survives closing the app;
 * - a typed query whose answer was seen before shows that answer at once, marked offline with
 *   its time, and replaces it with the fresh answer when it arrives (or keeps it if none comes);
 * - a send that fails is marked failed (no answer came: with those in line behind it) and can be
 *   sent again with the same idempotency key, one by one or all at once (retryAll);
 *   one the server refused (a 4xx that resending cannot change) is marked refused, with its reason;
 * - while the phone is offline (deps.online) a send waits for the network, however long: one made
 *   offline, or failed for want of network while offline, stays "sending" and goes out, with its
 *   key and in the conversation's order, when resume() is called (the network is back);
 * - an action identical to one still sending is not sent again (a double tap);
 * - what a form block was sent with stays on its message (forms), so it is not sent twice; a form
 *   whose send the server refused opens again with those values and the server's messages.
 *
 * Paging words ("更多", also as the server reads "更多~") and actions are never answered from the
 * cache: they depend on where the conversation is, and an action may change something. Nor is a
 * question whose cached answer was about where the conversation was then, once it is elsewhere.
 */
const { idempotencyKey, localId } = require('../../utils/ids');
const msg = require('../../utils/messages');
const { BLOCKING_CODES } = require('../../utils/errors');
const { cleanText } = require('../../utils/validate');
const { formRefusal } = require('./blocks');

const MORE_WORDS = ['更多', '下一页', '下页', '继续', '再来', 'more', 'next'];
const MAX_TEXT = 200; // characters (code points), as the server counts them
const RESENDABLE_4XX = [401, 408, 409, 429]; // a new login, a timeout, in progress, too many: try again later
const NO_NETWORK = ['network', 'timeout', 'offline']; // no answer came (utils/errors)
const EDGE_PUNCTUATION = /^[ 。？！?!.,，~…、；;]+|[ 。？！?!.,，~…、；;]+$/g; // "更多~" is "更多" to the server

/** Why a text cannot be sent ('' when it can): too long, counted by characters (an emoji is one). */
function textProblem(text) {
  return Array.from(cleanText(text)).length > MAX_TEXT ? msg.TEXT_TOO_LONG : '';
}

/** What identifies an action for "the same tap again": its intent and its parameters. */
function actionKey(act) {
  return `${act.intent}|${JSON.stringify(act.params || {})}`;
}

/**
 * A 4xx the server will answer the same way however often it is resent (request_done: done, answer
 * lost); not a 403 that asks for a step first.
 */
function refusal(error) {
  if (error.code === 'request_done') return true;
  if (BLOCKING_CODES.indexOf(error.code) >= 0) return false; // a step first (SMS check, password, unit), then resent
  return error.status >= 400 && error.status < 500 && !error.retryable && RESENDABLE_4XX.indexOf(error.status) < 0;
}

/** Full-width letters and digits as ASCII (NFKC, as the server reads text), where the engine can. */
function folded(text) {
  try {
    return text.normalize('NFKC');
  } catch (e) {
    return text;
  }
}

/** A typed query as the server's parser reads it (backend/chat/parser.py normalise), lower-cased. */
function normaliseQuery(text) {
  return folded(String(text || ''))
    .replace(/\s+/g, ' ')
    .replace(EDGE_PUNCTUATION, '')
    .toLowerCase();
}

function cacheable(request) {
  if (request.text === undefined) return false;
  const query = normaliseQuery(request.text);
  return !!query && MORE_WORDS.indexOf(query) < 0;
}

/**
 * May a cached answer stand for a question asked where the conversation is at `context`? Not one
 * about the place the conversation was at when it was asked ("下级单位" answers for the unit shown
 * last), unless the conversation is there again. An answer about another place than the one it
 * was asked at came from the words themselves ("王家湾村"), and holds anywhere.
 */
function fitsContext(cached, context) {
  return !cached.context || cached.context !== cached.askedAt || cached.askedAt === context;
}

/**
 * deps: chatApi, history, cache, owner () => string (whose history; '' or 'anon' when nobody's:
 * then nothing is saved), scope () => string (whose cached answers: account and unit),
 * now () => ms, random, onChange (messages) => void, onRefused (user message) => void,
 * online () => boolean (whether the phone has a network; always, when not given).
 *
 * load() claims the owner's history for this conversation (utils/history): once a newer one
 * (the chat page after a relaunch) has claimed it, what this one saves is dropped, e.g. the
 * answer to a send that was on its way when its page closed (the newer page shows that message
 * failed, to be resent with the same key).
 */
function createConversation(deps) {
  const now = deps.now || (() => Date.now());
  const onChange = deps.onChange || (() => {});
  const online = deps.online || (() => true);
  let messages = [];
  let claimed = null; // { owner, token } once loaded for an account
  let line = Promise.resolve(); // the sends, one after another
  let waiting = 0; // sends in line, the one on its way included
  let cuts = 0; // sends failed for want of network: those in line behind fail with it (cut)
  let cut = null;
  let held = new Set(); // ids of the sends waiting for the network (offline), see resume()

  /** The claim to save `who`'s history with: none before load (nothing checked), null: not ours. */
  function tokenFor(who) {
    if (!claimed) return undefined;
    return claimed.owner === who ? claimed.token : null;
  }

  function claim() {
    const who = deps.owner();
    claimed = who && who !== 'anon' && deps.history.claim ? { owner: who, token: deps.history.claim(who) } : null;
  }

  /** owner: whose history this is, read before a call went out (a 401 clears the session). */
  function changed(owner) {
    const who = owner === undefined ? deps.owner() : owner;
    if (who && who !== 'anon') messages = deps.history.save(who, messages, tokenFor(who));
    onChange(messages);
  }

  function find(id) {
    return messages.find((m) => m.id === id);
  }

  function update(id, patch) {
    messages = messages.map((m) => (m.id === id ? Object.assign({}, m, patch) : m));
  }

  function cacheKey(request) {
    return `chat:${deps.scope()}:${normaliseQuery(request.text)}`;
  }

  /** What the conversation is about now: the place the newest fresh answer named ('' if none). */
  function currentContext() {
    for (let i = messages.length - 1; i >= 0; i -= 1) {
      const m = messages[i];
      if (m.role === 'assistant' && !m.offline && m.context) return m.context;
    }
    return '';
  }

  /**
   * Shown as sending at once, sent once the send before it has its answer or has failed: the
   * server answers in the context the one before left ("更多", "这个村…").
   */
  function deliver(userId) {
    const user = find(userId);
    const owner = deps.owner(); // once, before the await: the answer may be a 401 that ends the session
    const key = cacheable(user.request) ? cacheKey(user.request) : '';
    update(userId, { status: 'sending', error: '' });
    if (key && !user.answerId) {
      const cached = deps.cache.get(key);
      // behind a send on its way, where the conversation will be is not known yet
      if (cached && fitsContext(cached.value, waiting ? null : currentContext())) {
        const answerId = localId(now(), deps.random);
        messages.push({
          id: answerId,
          role: 'assistant',
          replyTo: userId,
          time: now(),
          blocks: cached.value.blocks,
          suggestions: cached.value.suggestions,
          offline: true,
          cachedAt: cached.time,
        });
        update(userId, { answerId });
      }
    }
    changed(owner);
    if (!online()) {
      held.add(userId); // sent when the network is back, in the conversation's order
      return Promise.resolve(null);
    }
    const mark = cuts;
    const go = () => send(userId, owner, key, mark);
    const turn = waiting++ ? line.then(go) : go();
    line = turn.catch(() => null);
    return turn;
  }

  async function send(userId, owner, key, mark) {
    const user = find(userId);
    const askedAt = currentContext();
    let answerId = user && user.answerId;
    try {
      if (!user) return null; // cleared while in line
      if (mark !== cuts) throw cut; // not each waiting out its own timeout
      const reply = await deps.chatApi.send(user.request, user.key);
      if (key) deps.cache.set(key, Object.assign({}, reply, { askedAt }));
      const answer = {
        role: 'assistant',
        replyTo: userId,
        time: now(),
        blocks: reply.blocks,
        suggestions: reply.suggestions,
        context: reply.context,
        offline: false,
        cachedAt: 0,
      };
      if (answerId && find(answerId)) {
        update(answerId, answer);
      } else {
        answerId = localId(now(), deps.random);
        messages.push(Object.assign({ id: answerId }, answer));
      }
      update(userId, { status: 'sent', answerId, error: '' });
      changed(owner);
      return find(answerId);
    } catch (error) {
      if (mark === cuts && NO_NETWORK.indexOf(error.code) >= 0) {
        cuts += 1;
        cut = error;
      }
      if (NO_NETWORK.indexOf(error.code) >= 0 && !online()) {
        held.add(userId); // still "sending": it goes when the network is back
        changed(owner);
        return null;
      }
      const refused = refusal(error);
      const back = refused && error.code !== 'request_done'; // done, its answer lost: not handed back
      const reason = refused ? (error.fields && error.fields.text) || error.message : error.message;
      update(userId, { status: refused ? 'refused' : 'failed', error: reason || '' });
      if (back && user.form) reopenForm(user.form, userId, error);
      changed(owner);
      if (back && deps.onRefused) deps.onRefused(find(userId));
      return null;
    } finally {
      waiting -= 1;
    }
  }

  /** A refused form (form: { answerId, blockKey }) can be corrected: not sent, the server's messages on it. */
  function reopenForm(form, userId, error) {
    const answer = find(form.answerId);
    const formBlock = answer && (answer.blocks || []).find((b) => b.key === form.blockKey && b.type === 'form');
    if (!formBlock) return;
    const why = formRefusal(formBlock, error);
    const entry = Object.assign({}, (answer.forms || {})[form.blockKey], {
      sent: false,
      errors: why.errors,
      refusal: why.message,
      refused: userId, // which send was refused: the form shows each refusal once
    });
    update(answer.id, { forms: Object.assign({}, answer.forms, { [form.blockKey]: entry }) });
  }

  function markSent(id, blockKey, values) {
    const answer = find(id);
    if (!answer || answer.role !== 'assistant') return false;
    update(id, { forms: Object.assign({}, answer.forms, { [blockKey]: { values: Object.assign({}, values), sent: true } }) });
    return true;
  }

  function add(request, label, form) {
    const id = localId(now(), deps.random);
    messages.push({
      id,
      role: 'user',
      text: label,
      time: now(),
      request,
      key: idempotencyKey(deps.random), // one key for this send and all its resends
      status: 'sending',
      form, // { answerId, blockKey } when a form block sent it
    });
    return deliver(id);
  }

  return {
    load() {
      claim();
      messages = deps.history.load(deps.owner());
      onChange(messages);
      return messages;
    },
    messages: () => messages,
    /** This conversation's claim on its account's history (for the draft): see utils/history. */
    writer: () => (claimed ? claimed.token : undefined),
    /** Nothing is sent for an empty or over-long text (the page says why: textProblem), nor one still sending (a double tap). */
    sendText(text) {
      const clean = cleanText(text);
      if (!clean || textProblem(clean)) return Promise.resolve(null);
      if (messages.some((m) => m.status === 'sending' && m.request && m.request.text === clean)) return Promise.resolve(null);
      return add({ text: clean }, clean);
    },
    /**
     * An action identical to one still sending is ignored (it would go out with another key); one
     * whose last send failed is resent with its key (the server may have done it), moved to the end.
     * form: { messageId, key, values } when a form block sends it (see formSent).
     */
    sendAction(act, label, form) {
      if (form && markSent(form.messageId, form.key, form.values)) changed();
      const request = { action: { intent: act.intent, params: act.params || {} } };
      const key = actionKey(request.action);
      const same = messages.filter((m) => m.role === 'user' && m.request && m.request.action && actionKey(m.request.action) === key);
      if (same.some((m) => m.status === 'sending')) return Promise.resolve(null);
      const last = same[same.length - 1];
      if (!form && last && last.status === 'failed') {
        messages = messages.filter((m) => m !== last).concat(Object.assign({}, last, { time: now() }));
        return deliver(last.id);
      }
      const source = form && find(form.messageId) ? { answerId: form.messageId, blockKey: form.key } : undefined;
      return add(request, label || act.label || act.intent, source);
    },
    /** A form block of answer `id` was sent with `values`: kept on the message (and in the history). */
    formSent(id, blockKey, values) {
      if (markSent(id, blockKey, values)) changed();
    },
    /** Send a failed message again, with its idempotency key. */
    retry(id) {
      const user = find(id);
      if (!user || user.role !== 'user' || user.status !== 'failed') return Promise.resolve(null);
      return deliver(id);
    },
    /** Send every failed message again (in the conversation's order), each with its key. */
    retryAll() {
      const failed = messages.filter((m) => m.role === 'user' && m.status === 'failed');
      return Promise.all(failed.map((m) => deliver(m.id)));
    },
    /** The network is back: the sends that waited for it go out, in the conversation's order. */
    resume() {
      if (!online() || !held.size) return Promise.resolve([]);
      const ids = held;
      held = new Set();
      const waitingIds = messages.filter((m) => ids.has(m.id) && m.status === 'sending').map((m) => m.id);
      return Promise.all(waitingIds.map(deliver));
    },
    /** The quick replies to show: those of the newest answer. */
    suggestions() {
      for (let i = messages.length - 1; i >= 0; i -= 1) {
        if (messages[i].role === 'assistant') return messages[i].suggestions || [];
      }
      return [];
    },
    clear() {
      messages = [];
      held = new Set();
      deps.history.clear(deps.owner());
      if (claimed) claim(); // this conversation goes on, with an empty history
      onChange(messages);
    },
  };
}

module.exports = { createConversation, normaliseQuery, cacheable, cleanText, textProblem, actionKey, MORE_WORDS, MAX_TEXT };
