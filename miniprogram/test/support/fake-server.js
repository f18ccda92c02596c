/**
 * A scripted API for component tests: routes "METHOD /path" to functions (body, call) -> body
 * or { status, body }, or a promise of either (an answer that comes later, or never). Installs
 * itself as wx.request and records every call.
 */
function install(routes) {
  const calls = [];
  global.wx.request = (options) => {
    const url = new URL(options.url);
    const key = `${options.method || 'GET'} ${url.pathname}`;
    const call = { key, header: options.header || {}, data: options.data, query: url.searchParams };
    calls.push(call);
    const route = routes[key];
    setTimeout(() => {
      if (!route) {
        options.success({ statusCode: 404, data: { error: { code: 'not_found', message: '不存在', fields: {} } }, header: {} });
        return;
      }
      Promise.resolve(route(options.data, call)).then((out) => {
        const shaped = out && typeof out.status === 'number' ? out : { status: 200, body: out }; // a body may say status: '...'
        options.success({ statusCode: shaped.status, data: shaped.body === undefined ? '' : shaped.body, header: {} });
      });
    }, 0);
    return { abort() {} };
  };
  return calls;
}

const LOST = { status: 504, body: '' }; // done on the server, the answer lost on the way back

/**
 * A write route the server does once per Idempotency-Key, like backend/core/idempotency.py: a key
 * seen before gets its stored answer again. A new key gets `refused()` if that answers something
 * (the write is done already: "已撤销", "尚未绑定"), else `write()` runs and its answer is stored.
 * The `server` object's flags shape the way back of a write: `lose` (its answer lost, LOST
 * instead; once) and `hold` (its answer waits for `server.release()`).
 */
function writeOncePerKey(server, refused, write) {
  const done = new Map();
  return (data, call) => {
    const key = call.header['Idempotency-Key'];
    if (done.has(key)) return done.get(key);
    const refusal = refused();
    if (refusal) return refusal;
    const answer = write();
    done.set(key, answer);
    if (server.lose) {
      server.lose = false;
      return LOST;
    }
    if (server.hold) return new Promise((resolve) => (server.release = () => resolve(answer)));
    return answer;
  };
}

const CAPTCHA = {
  captcha_id: 'cap-1',
  image: 'data:image/png;base64,iVBORw0KGgo=',
  expires_in: 120,
};

module.exports = { install, writeOncePerKey, CAPTCHA };
