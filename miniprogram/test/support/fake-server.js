/**
 * A scripted API for component tests: routes "METHOD /path" to functions (body, call) -> body
 * or { status, body }. Installs itself as wx.request and records every call.
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
      const out = route(options.data, call);
      const shaped = out && out.status ? out : { status: 200, body: out };
      options.success({ statusCode: shaped.status, data: shaped.body === undefined ? '' : shaped.body, header: {} });
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
