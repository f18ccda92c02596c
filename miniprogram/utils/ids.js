/**
 * Random identifiers: idempotency keys (one per logical write, reused by its retries) and local
 * message ids. Not secrets: uniqueness is what matters, so Math.random with the time is enough.
 */
function randomHex(length, random) {
  const rnd = random || Math.random;
  let out = '';
  while (out.length < length) {
    out += Math.floor(rnd() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  }
  return out.slice(0, length);
}

/** A UUID-v4-shaped key: 122 random bits. */
function idempotencyKey(random) {
  const hex = randomHex(32, random);
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A screen's write key: the same request resent after a retryable failure keeps it (the server answers once). */
function resendKey(random) {
  let last = {};
  return {
    /** request: what the write sends (and where). */
    key(request) {
      const text = JSON.stringify(request);
      if (!last.open || last.text !== text) last = { text, key: idempotencyKey(random) };
      return last.key;
    },
    /** After the answer: its error, or none. */
    settle(error) {
      last.open = !!(error && error.retryable);
    },
  };
}

function localId(now, random) {
  return `m${(now || Date.now()).toString(36)}${randomHex(6, random)}`;
}

module.exports = { idempotencyKey, resendKey, localId, randomHex };
