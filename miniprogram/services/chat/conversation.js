/**
 * The conversation on the chat screen, as plain state the page renders:
 *
 * - every message is kept in storage per account (history), so it survives closing the app;
 * - a typed query whose answer was seen before shows that answer at once, marked offline with
 *   its time, and replaces it with the fresh answer when it arrives (or keeps it if none comes);
 * - a send that fails is marked failed and can be sent again with the same idempotency key.
 *
 * Paging words ("更多") and actions are never answered from the cache: they depend on where the
 * conversation is, and an action may change something.
 */
const { idempotencyKey, localId } = require('../../utils/ids');

const MORE_WORDS = ['更多', '下一页', '下页', '继续', '再来', 'more', 'next'];

function normaliseQuery(text) {
  return String(text || '')
    .replace(/\s+/g, ' ')
    .trim()
    .toLowerCase();
}

function cacheable(request) {
  if (request.text === undefined) return false;
  const query = normaliseQuery(request.text);
  return !!query && MORE_WORDS.indexOf(query) < 0;
}

/**
 * deps: chatApi, history, cache, owner () => string (whose history), scope () => string (whose
 * cached answers: account and unit), now () => ms, random, onChange (messages) => void.
 */
function createConversation(deps) {
  const now = deps.now || (() => Date.now());
  const onChange = deps.onChange || (() => {});
  let messages = [];

  function changed() {
    messages = deps.history.save(deps.owner(), messages);
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

  async function deliver(userId) {
    const user = find(userId);
    const request = user.request;
    let answerId = user.answerId || null;
    update(userId, { status: 'sending', error: '' });
    if (cacheable(request) && !answerId) {
      const cached = deps.cache.get(cacheKey(request));
      if (cached) {
        answerId = localId(now(), deps.random);
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
    changed();
    try {
      const reply = await deps.chatApi.send(request, user.key);
      if (cacheable(request)) deps.cache.set(cacheKey(request), reply);
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
      changed();
      return find(answerId);
    } catch (error) {
      update(userId, { status: 'failed', error: error.message || '' });
      changed();
      return null;
    }
  }

  function add(request, label) {
    const id = localId(now(), deps.random);
    messages.push({
      id,
      role: 'user',
      text: label,
      time: now(),
      request,
      key: idempotencyKey(deps.random), // one key for this send and all its resends
      status: 'sending',
    });
    return deliver(id);
  }

  return {
    load() {
      messages = deps.history.load(deps.owner());
      onChange(messages);
      return messages;
    },
    messages: () => messages,
    sendText(text) {
      const clean = String(text || '').trim();
      if (!clean) return Promise.resolve(null);
      return add({ text: clean.slice(0, 200) }, clean.slice(0, 200));
    },
    sendAction(act, label) {
      return add({ action: { intent: act.intent, params: act.params || {} } }, label || act.label || act.intent);
    },
    /** Send a failed message again, with its idempotency key. */
    retry(id) {
      const user = find(id);
      if (!user || user.role !== 'user' || user.status !== 'failed') return Promise.resolve(null);
      return deliver(id);
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
      deps.history.clear(deps.owner());
      onChange(messages);
    },
  };
}

module.exports = { createConversation, normaliseQuery, cacheable, MORE_WORDS };
