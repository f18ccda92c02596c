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

const CAPTCHA = {
  captcha_id: 'cap-1',
  image: 'data:image/png;base64,iVBORw0KGgo=',
  expires_in: 120,
};

module.exports = { install, CAPTCHA };
