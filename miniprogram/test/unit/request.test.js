/**
 * utils/request: the weak-network rules (W6) with a fake wx and jest's fake timers (no real
 * sleeps): timeout per call, bounded retries with backoff for reads only, an Idempotency-Key
 * on every write (kept for a resend), the concurrency queue, pausing while offline.
 */
const { createFakeWx } = require('../support/fake-wx');
const { createNetwork } = require('../../utils/network');
const { createClient } = require('../../utils/request');

function setup(extra) {
  const wx = createFakeWx();
  const network = createNetwork(wx);
  network.start();
  let token = '';
  const client = createClient(
    Object.assign(
      {
        wx,
        network,
        getToken: () => token,
        baseUrl: () => 'http://api.test',
        random: () => 0.5,
      },
      extra || {}
    )
  );
  return { wx, network, client, setToken: (t) => (token = t) };
}

const ok = (data) => ({ statusCode: 200, data });

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

test('a read returns the body and carries the 10 s timeout and the token', async () => {
  const { wx, client, setToken } = setup();
  setToken('tok');
  wx.respond(() => ok({ hello: 1 }));
  await expect(client.get('/api/session', { query: { a: 'x y', b: '' } })).resolves.toEqual({ hello: 1 });
  expect(wx.requests).toHaveLength(1);
  const call = wx.requests[0];
  expect(call.url).toBe('http://api.test/api/session?a=x%20y');
  expect(call.timeout).toBe(10000);
  expect(call.header.Authorization).toBe('Bearer tok');
  expect(call.header['Idempotency-Key']).toBeUndefined();
});

test('a read is retried after network failures and timeouts with growing backoff, then succeeds', async () => {
  const { wx, client } = setup();
  wx.respond((call, n) => (n === 1 ? { fail: 'timeout' } : n === 2 ? { fail: 'net::ERR' } : ok({ done: true })));
  const result = client.get('/api/profile');
  await jest.advanceTimersByTimeAsync(0);
  expect(wx.requests).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(749); // first backoff: 1000 ms with equal jitter at random 0.5 = 750
  expect(wx.requests).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(1);
  expect(wx.requests).toHaveLength(2);
  await jest.advanceTimersByTimeAsync(1499); // second: 2000 ms -> 1500
  expect(wx.requests).toHaveLength(2);
  await jest.advanceTimersByTimeAsync(1);
  await expect(result).resolves.toEqual({ done: true });
  expect(wx.requests).toHaveLength(3);
});

test('retries of a read are bounded: three tries, then the error says it may be retried', async () => {
  const { wx, client } = setup();
  wx.respond(() => ({ fail: 'timeout' }));
  const result = client.get('/api/profile');
  const caught = result.catch((e) => e);
  await jest.advanceTimersByTimeAsync(60000);
  const error = await caught;
  expect(wx.requests).toHaveLength(3);
  expect(error.code).toBe('timeout');
  expect(error.retryable).toBe(true);
  expect(error.message).toMatch(/超时/);
});

test('a 503 read waits as long as Retry-After says (capped), a 4xx is not retried', async () => {
  const { wx, client } = setup();
  wx.respond((call, n) => (n === 1 ? { statusCode: 503, data: {}, header: { 'Retry-After': '3' } } : ok({ ok: 1 })));
  const result = client.get('/api/sessions');
  await jest.advanceTimersByTimeAsync(2999);
  expect(wx.requests).toHaveLength(1);
  await jest.advanceTimersByTimeAsync(1);
  await expect(result).resolves.toEqual({ ok: 1 });

  wx.respond(() => ({ statusCode: 404, data: { error: { code: 'not_found', message: '不存在', fields: {} } } }));
  const missing = client.get('/api/x').catch((e) => e);
  await jest.advanceTimersByTimeAsync(60000);
  const error = await missing;
  expect(error).toMatchObject({ status: 404, code: 'not_found', message: '不存在', retryable: false });
  expect(wx.requests).toHaveLength(3);
});

test('a write carries an Idempotency-Key, is never retried, and its error keeps the key for a resend', async () => {
  let seed = 0;
  const { wx, client } = setup({ random: () => ((seed = (seed * 9301 + 49297) % 233280) / 233280) });
  wx.respond(() => ({ fail: 'timeout' }));
  const first = client.post('/api/chat', { text: '汇总' }).catch((e) => e);
  await jest.advanceTimersByTimeAsync(60000);
  const error = await first;
  expect(wx.requests).toHaveLength(1);
  const key = wx.requests[0].header['Idempotency-Key'];
  expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(wx.requests[0].header['Content-Type']).toBe('application/json');
  expect(error.idempotencyKey).toBe(key);
  expect(error.retryable).toBe(true);

  wx.respond(() => ok({ blocks: [] }));
  await client.post('/api/chat', { text: '汇总' }, { idempotencyKey: error.idempotencyKey });
  expect(wx.requests[1].header['Idempotency-Key']).toBe(key);

  await client.post('/api/chat', { text: '帮助' });
  await client.patch('/api/profile', { name: 'x' });
  await client.del('/api/sessions/abc');
  const keys = wx.requests.map((r) => r.header['Idempotency-Key']);
  expect(new Set(keys.slice(1)).size).toBe(4); // each new write its own key
  expect(wx.requests.map((r) => r.method)).toEqual(['POST', 'POST', 'POST', 'PATCH', 'DELETE']);
});

test('the key fits the server format (8-64 of A-Za-z0-9_-:.)', async () => {
  const { wx, client } = setup({ random: Math.random });
  wx.respond(() => ok({}));
  for (let i = 0; i < 20; i += 1) await client.post('/api/x', {});
  wx.requests.forEach((r) => expect(r.header['Idempotency-Key']).toMatch(/^[A-Za-z0-9_\-:.]{8,64}$/));
});

test('the server error shape becomes an ApiError with code, Chinese message and fields', async () => {
  const { wx, client } = setup();
  wx.respond(() => ({
    statusCode: 400,
    data: { error: { code: 'captcha_invalid', message: '图形验证码不正确', fields: { captcha_answer: '图形验证码不正确' } } },
  }));
  const error = await client.post('/api/auth/login', {}, { auth: false }).catch((e) => e);
  expect(error.name).toBe('ApiError');
  expect(error).toMatchObject({ status: 400, code: 'captcha_invalid', message: '图形验证码不正确' });
  expect(error.fields).toEqual({ captcha_answer: '图形验证码不正确' });
});

test('409 request_in_progress may pass later (resend with the key); other 409s are final', async () => {
  const { wx, client } = setup();
  const conflict = (code) => ({ statusCode: 409, data: { error: { code, message: '配对状态已变化', fields: {} } } });
  wx.respond(() => conflict('request_in_progress'));
  const running = await client.post('/api/reviews', {}, { auth: false, idempotencyKey: 'k-running-1' }).catch((e) => e);
  expect(running).toMatchObject({ status: 409, code: 'request_in_progress', retryable: true, idempotencyKey: 'k-running-1' });
  wx.respond(() => conflict('pairing_state'));
  const moved = await client.post('/api/pairings/p/confirm', {}).catch((e) => e);
  expect(moved).toMatchObject({ status: 409, code: 'pairing_state', retryable: false });
});

test('204 answers null; a non-JSON 200 is a bad answer', async () => {
  const { wx, client } = setup();
  wx.respond(() => ({ statusCode: 204, data: '' }));
  await expect(client.post('/api/auth/logout')).resolves.toBeNull();
  wx.respond(() => ({ statusCode: 200, data: '<html>' }));
  await expect(client.get('/api/session')).rejects.toMatchObject({ code: 'bad_answer' });
});

test('401 on a call with a token emits "unauthenticated"; 403 with a required step emits "blocked"', async () => {
  const { wx, client, setToken } = setup();
  const seen = [];
  client.on('unauthenticated', (e) => seen.push(['401', e.code]));
  client.on('blocked', (e) => seen.push(['403', e.code]));
  wx.respond(() => ({ statusCode: 401, data: { error: { code: 'session_invalid', message: '登录已过期', fields: {} } } }));
  await client.get('/api/session', { retries: 0 }).catch(() => {});
  expect(seen).toEqual([]); // no token: nothing to end
  setToken('t');
  await client.get('/api/session', { retries: 0 }).catch(() => {});
  wx.respond(() => ({
    statusCode: 403,
    data: { error: { code: 'password_change_required', message: '请先修改密码', fields: {} } },
  }));
  await client.post('/api/chat', { text: 'x' }).catch(() => {});
  wx.respond(() => ({ statusCode: 403, data: { error: { code: 'forbidden', message: '无权限', fields: {} } } }));
  await client.post('/api/chat', { text: 'x' }).catch(() => {});
  expect(seen).toEqual([
    ['401', 'session_invalid'],
    ['403', 'password_change_required'],
  ]);
});

test('at most MAX_CONCURRENT (8) requests are in flight; the rest wait their turn in order', async () => {
  const { wx, client } = setup();
  const pending = [];
  wx.respond(() => new Promise((resolve) => pending.push(resolve)));
  const results = [];
  for (let i = 0; i < 20; i += 1) results.push(client.get(`/api/item/${i}`));
  await jest.advanceTimersByTimeAsync(0);
  expect(wx.requests).toHaveLength(8);
  expect(client.queue.stats()).toMatchObject({ active: 8, waiting: 12 });
  pending.shift()(ok({ n: 0 }));
  await jest.advanceTimersByTimeAsync(0);
  expect(wx.requests).toHaveLength(9);
  expect(wx.requests[8].url).toBe('http://api.test/api/item/8');
  while (pending.length) {
    pending.shift()(ok({}));
    await jest.advanceTimersByTimeAsync(0);
  }
  await Promise.all(results);
  expect(wx.requests).toHaveLength(20);
  expect(client.queue.stats().highWater).toBe(8);
});

test('offline: calls wait (nothing is sent) and go out when the network returns', async () => {
  const { wx, client } = setup();
  wx.respond(() => ok({ fine: true }));
  wx.setNetwork('none');
  const result = client.post('/api/chat', { text: '汇总' });
  await jest.advanceTimersByTimeAsync(30000);
  expect(wx.requests).toHaveLength(0);
  wx.setNetwork('4g');
  await jest.advanceTimersByTimeAsync(0);
  await expect(result).resolves.toEqual({ fine: true });
  expect(wx.requests).toHaveLength(1);
});

test('offline for longer than OFFLINE_WAIT_MS: the call fails as "offline", keeping its key', async () => {
  const { wx, client } = setup({ config: { OFFLINE_WAIT_MS: 5000 } });
  wx.setNetwork('none');
  const result = client.post('/api/chat', { text: '汇总' }, { idempotencyKey: 'key-0001' }).catch((e) => e);
  await jest.advanceTimersByTimeAsync(5000);
  const error = await result;
  expect(error).toMatchObject({ code: 'offline', retryable: true, idempotencyKey: 'key-0001' });
  expect(wx.requests).toHaveLength(0);
});

test('a read that failed because the network dropped waits for it, then retries', async () => {
  const { wx, client } = setup();
  wx.respond((call, n) => {
    if (n === 1) {
      wx.setNetwork('none');
      return { fail: 'net::ERR_INTERNET_DISCONNECTED' };
    }
    return ok({ back: true });
  });
  const result = client.get('/api/profile');
  await jest.advanceTimersByTimeAsync(20000);
  expect(wx.requests).toHaveLength(1);
  wx.setNetwork('wifi');
  await jest.advanceTimersByTimeAsync(0);
  await expect(result).resolves.toEqual({ back: true });
});

test('backoff grows by powers of two with equal jitter and stops at BACKOFF_MAX_MS', () => {
  const low = setup({ random: () => 0 }).client;
  const high = setup({ random: () => 0.999999 }).client;
  expect([0, 1, 2, 3, 4].map((a) => low.backoff(a))).toEqual([500, 1000, 2000, 4000, 4000]);
  expect([0, 1, 2, 3, 4].map((a) => high.backoff(a))).toEqual([1000, 2000, 4000, 8000, 8000]);
  expect(low.backoff(0, '2')).toBe(2000);
  expect(low.backoff(0, '600')).toBe(8000);
});

test('a 401 for a token that a new login has replaced meanwhile does not end the new session', async () => {
  const { wx, client, setToken } = setup();
  const ended = [];
  client.on('unauthenticated', (e) => ended.push(e.code));
  const expired = { statusCode: 401, data: { error: { code: 'session_invalid', message: '登录已过期，请重新登录', fields: {} } } };
  const pending = [];
  wx.respond(() => new Promise((resolve) => pending.push(resolve)));
  setToken('old');
  const first = client.post('/api/chat', { text: '汇总' }).catch((e) => e);
  const slow = client.get('/api/session', { retries: 0 }).catch((e) => e); // still out on a weak signal
  await jest.advanceTimersByTimeAsync(0);
  pending.shift()(expired);
  await first;
  expect(ended).toEqual(['session_invalid']); // the app goes to the login screen
  setToken('new'); // logged in again (WeChat one-tap takes a second)
  pending.shift()(expired); // the old token's late answer
  expect(await slow).toMatchObject({ status: 401, message: '登录已过期，请重新登录' });
  expect(ended).toEqual(['session_invalid']);
  expect(wx.requests[1].header.Authorization).toBe('Bearer old');
});

test('a call already waiting in the queue when the phone goes offline fails after OFFLINE_WAIT_MS as "offline", keeping its key', async () => {
  const { wx, client } = setup({ config: { OFFLINE_WAIT_MS: 5000 } });
  const pending = [];
  wx.respond(() => new Promise((resolve) => pending.push(resolve)));
  const busy = [];
  for (let i = 0; i < 8; i += 1) busy.push(client.get(`/api/item/${i}`, { retries: 0 }).catch((e) => e));
  const write = client.post('/api/chat', { text: '汇总' }, { idempotencyKey: 'key-0002' }).catch((e) => e);
  const read = client.get('/api/profile').catch((e) => e);
  await jest.advanceTimersByTimeAsync(0);
  expect(client.queue.stats()).toMatchObject({ active: 8, waiting: 2 });
  wx.setNetwork('none');
  await jest.advanceTimersByTimeAsync(4999);
  expect(client.queue.stats().waiting).toBe(2);
  await jest.advanceTimersByTimeAsync(1);
  expect(await write).toMatchObject({
    code: 'offline',
    message: '长时间没有网络，请恢复网络后重试',
    retryable: true,
    idempotencyKey: 'key-0002',
  });
  expect(await read).toMatchObject({ code: 'offline', message: '长时间没有网络，请恢复网络后重试', retryable: true });
  expect(client.queue.stats()).toMatchObject({ active: 8, waiting: 0 });
  expect(wx.requests).toHaveLength(8); // neither went out

  // The network comes back: the queue works on; a new call goes out once a slot is free.
  wx.setNetwork('wifi');
  pending.shift()(ok({}));
  await jest.advanceTimersByTimeAsync(0);
  wx.respond(() => ok({ again: true }));
  await expect(client.post('/api/chat', { text: '汇总' }, { idempotencyKey: 'key-0002' })).resolves.toEqual({ again: true });
  expect(wx.requests[8].header['Idempotency-Key']).toBe('key-0002');
  pending.forEach((release) => release(ok({})));
  await Promise.all(busy);
});

test('a queued call whose offline spell ends in time is sent; a later spell has its own limit', async () => {
  const { wx, client } = setup({ config: { OFFLINE_WAIT_MS: 5000 } });
  const pending = [];
  wx.respond(() => new Promise((resolve) => pending.push(resolve)));
  for (let i = 0; i < 8; i += 1) client.get(`/api/item/${i}`, { retries: 0 }).catch(() => {});
  const write = client.post('/api/chat', { text: '汇总' });
  await jest.advanceTimersByTimeAsync(0);
  wx.setNetwork('none');
  await jest.advanceTimersByTimeAsync(4000);
  wx.setNetwork('wifi');
  await jest.advanceTimersByTimeAsync(3000);
  wx.setNetwork('none');
  await jest.advanceTimersByTimeAsync(4000); // 8 s offline in all, never 5 s at a stretch
  wx.setNetwork('wifi');
  pending.shift()(ok({}));
  await jest.advanceTimersByTimeAsync(0);
  expect(wx.requests).toHaveLength(9);
  pending[pending.length - 1](ok({ sent: true }));
  await expect(write).resolves.toEqual({ sent: true });
  pending.forEach((release) => release(ok({})));
});
