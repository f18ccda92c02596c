/** The card subpackage's services and the card part of "我的": paths, headers, bodies, what is kept, what is shown. */
const { createFakeApi } = require('../support/fake-wx');
const { createDevices, enrolProblems } = require('../../packageCard/services/devices');
const { createPairing, pairingView } = require('../../packageCard/services/pairing');
const { createProfile } = require('../../packageAccount/services/profile');
const { cardSection } = require('../../packageAccount/services/card');
const { SCREENS } = require('../../services/session');
const { PAIRING } = require('../support/fixtures');

const unit = { id: 6, unit_id: 4, unit_name: '白沙镇', role: 'admin', role_label: '管理员' };
test('pairing: scan sends the session when there is one; confirm / cancel send the phone key (writes with keys)', async () => {
  const api = createFakeApi({
    'POST /api/pairings/scan': () => Object.assign({ phone_key: 'pk' }, PAIRING),
    'POST /api/pairings/p-1/confirm': () => Object.assign({}, PAIRING, { state: 'confirmed', version: 3 }),
    'POST /api/pairings/p-1/cancel': () => Object.assign({}, PAIRING, { state: 'cancelled', version: 4 }),
  });
  const pairing = createPairing(api.client, api.session, api.cache);
  expect((await pairing.scan('tok')).phone_key).toBe('pk');
  expect(api.wx.requests[0].header.Authorization).toBeUndefined(); // nobody logged in: a card login needs no session
  api.session.saveLogin(Object.assign({ token: 't1', account_id: 6, unit, units: [unit] }));
  await pairing.scan('tok');
  expect(api.wx.requests[1].header.Authorization).toBe('Bearer t1');
  expect((await pairing.confirm('p-1', 'pk')).state).toBe('confirmed');
  expect((await pairing.cancel('p-1', 'pk')).state).toBe('cancelled');
  expect(api.wx.requests.map((r) => [r.method, r.url.replace('http://api.test', ''), r.data])).toEqual([
    ['POST', '/api/pairings/scan', { token: 'tok' }],
    ['POST', '/api/pairings/scan', { token: 'tok' }],
    ['POST', '/api/pairings/p-1/confirm', { phone_key: 'pk' }],
    ['POST', '/api/pairings/p-1/cancel', { phone_key: 'pk' }],
  ]);
  api.wx.requests.forEach((r) => expect(r.header['Idempotency-Key']).toMatch(/^[0-9a-f-]{36}$/));
});

test('pairing: phone-events is one long-poll with the pairing key, a timeout past its wait, and no helper retries', async () => {
  let calls = 0;
  const api = createFakeApi({
    'GET /api/pairings/p-1/phone-events?since=2&wait=25': () => {
      calls += 1;
      return { statusCode: 503, data: { error: { code: 'busy', message: '服务器繁忙' } } };
    },
  });
  api.session.saveLogin({ token: 't1', account_id: 6, unit, units: [unit] });
  const pairing = createPairing(api.client, api.session, api.cache);
  const error = await pairing.events('p-1', 'pk', 2).catch((e) => e);
  expect(error).toMatchObject({ status: 503, retryable: true });
  expect(calls).toBe(1); // the follower decides when to poll again
  const sent = api.wx.requests[0];
  expect(sent.header['X-Pairing-Key']).toBe('pk');
  expect(sent.header.Authorization).toBeUndefined();
  expect(sent.timeout).toBe(35000);
});

test('pairing: claim keeps the session like a password login and answers the next screen', async () => {
  const two = [unit, Object.assign({}, unit, { id: 8, unit_id: 9, unit_name: '王家湾村' })];
  const api = createFakeApi({
    'POST /api/pairings/p-1/claim': () => ({ token: 'card-tok', account_id: 12, username: '91530100_ADMIN', name: '李四', unit: null, units: two }),
  });
  const pairing = createPairing(api.client, api.session, api.cache);
  expect(await pairing.claim('p-1', 'pk')).toBe(SCREENS.unit);
  expect(api.session.token()).toBe('card-tok');
  expect(api.session.info()).toMatchObject({ username: '91530100_ADMIN', units: two });
  expect(api.wx.requests[0].data).toEqual({ phone_key: 'pk' });
});

test('pairing: refreshProfile stores the fresh profile where "我的" reads it', async () => {
  const api = createFakeApi({ 'GET /api/profile': () => ({ name: '贾红', realname_level: 'high' }) });
  api.session.saveLogin({ token: 't1', account_id: 6, unit, units: [unit] });
  const pairing = createPairing(api.client, api.session, api.cache);
  await pairing.refreshProfile();
  const shown = [];
  await createProfile(api.client, api.cache, api.session).load((s) => shown.push([s.offline, s.value.realname_level]));
  expect(shown[0]).toEqual([true, 'high']);
});

test('pairingView: each state in words, the server\'s texts first', () => {
  expect(pairingView(PAIRING)).toMatchObject({
    view: 'scanned',
    actionLabel: '卡登录',
    userCode: 'ABCD-2345',
    deviceName: '王家湾村委会办公室',
    unitName: '王家湾村',
    confirmedBy: '',
    message: '',
  });
  expect(pairingView(Object.assign({}, PAIRING, { state: 'confirmed', confirmed_by: { name: '贾红', username: 'u' } }))).toMatchObject({
    view: 'waiting',
    confirmedBy: '确认人：贾红',
  });
  const done = { state: 'done', result: { message: '已绑定IC卡', account: { id: 1 }, created: ['123_ADMIN', '123'] } };
  expect(pairingView(Object.assign({}, PAIRING, done))).toMatchObject({ view: 'done', message: '已绑定IC卡', created: '123_ADMIN、123' });
  const failed = { state: 'failed', error: { code: 'card_holder_mismatch', message: '卡片持有人与账号不一致' } };
  expect(pairingView(Object.assign({}, PAIRING, failed))).toMatchObject({ view: 'failed', message: '卡片持有人与账号不一致' });
  expect(pairingView(Object.assign({}, PAIRING, { state: 'failed' })).message).toBe('操作未完成');
  expect(pairingView(Object.assign({}, PAIRING, { state: 'expired' })).message).toMatch(/过期/);
  expect(pairingView(Object.assign({}, PAIRING, { state: 'cancelled' })).message).toMatch(/已取消/);
  // cancelled on the PC: the server's reason, not the words for the phone's own cancel
  const byPc = { state: 'cancelled', error: { code: 'pairing_cancelled_by_device', message: '电脑上已取消本次业务' } };
  expect(pairingView(Object.assign({}, PAIRING, byPc))).toMatchObject({ view: 'cancelled', message: '电脑上已取消本次业务' });
  expect(pairingView({ state: 'strange', version: 9 })).toMatchObject({ view: 'failed', deviceName: '', unitName: '' });
});

test('devices: enrolment, approve, the list in scope and revoke; units for the picker', async () => {
  const device = { id: 3, name: '王家湾村委会', unit: { id: 7, name: '王家湾村' }, status: 'active' };
  const api = createFakeApi({
    'GET /api/devices/enrolments/tok-1': () => ({ hostname: 'PC-01', fingerprint: 'AAAA-BBBB-CCCC-DDDD', expires_at: 'x' }),
    'POST /api/devices/enrolments/tok-1/approve': () => ({ statusCode: 201, data: device }),
    'GET /api/devices?limit=20': () => ({ items: [device], total: 1, next_cursor: null }),
    'GET /api/devices?cursor=3&unit_id=7&limit=5': () => ({ items: [], total: null, next_cursor: null }),
    'POST /api/devices/3/revoke': () => Object.assign({}, device, { status: 'revoked' }),
    'GET /api/units?q=%E7%8E%8B&limit=20': () => ({ items: [{ id: 7, name: '王家湾村' }], total: 1, next_cursor: null }),
  });
  const devices = createDevices(api.client);
  expect((await devices.enrolment('tok-1')).fingerprint).toBe('AAAA-BBBB-CCCC-DDDD');
  expect(await devices.approve('tok-1', { name: ' 王家湾村委会 ', unitId: '7' })).toEqual(device);
  expect(api.wx.requests[1].data).toEqual({ name: '王家湾村委会', unit_id: 7 });
  expect((await devices.list()).items).toHaveLength(1);
  expect((await devices.list({ cursor: 3, unitId: 7, limit: 5 })).items).toEqual([]);
  expect((await devices.revoke(3)).status).toBe('revoked');
  expect((await devices.units(' 王 ')).items[0].name).toBe('王家湾村');
});

test('enrolProblems: a name (at most 50 characters) and a unit', () => {
  expect(enrolProblems({ name: '  ', unitId: 0 })).toEqual({ name: '请填写电脑名称', unit_id: '请选择电脑所属单位' });
  expect(enrolProblems({ name: '字'.repeat(51), unitId: 7 })).toEqual({ name: '电脑名称不能超过 50 个字' });
  expect(enrolProblems({ name: ' 村委会 ', unitId: 7 })).toEqual({});
});

test('profile: unbind the card and activate the account', async () => {
  const api = createFakeApi({
    'DELETE /api/profile/card': () => ({ statusCode: 204, data: '' }),
    'POST /api/profile/activate': () => ({ statusCode: 204, data: '' }),
  });
  const profile = createProfile(api.client, api.cache, api.session);
  expect(await profile.unbindCard()).toBeNull();
  expect(await profile.activate('Xinmima#2026')).toBeNull();
  expect(api.wx.requests.map((r) => [r.method, r.url.replace('http://api.test', ''), r.data])).toEqual([
    ['DELETE', '/api/profile/card', undefined],
    ['POST', '/api/profile/activate', { new_password: 'Xinmima#2026' }],
  ]);
});

test('cardSection: the bound card, kind and date; the real-name level in words; activation', () => {
  const now = Date.parse('2026-11-22T12:00:00');
  const bound = { card: { card_number: '9153****0001', kind: 'legal_rep', bound_at: '2026-11-20T08:30:00' }, realname_level: 'high', needs_activation: false };
  expect(cardSection(bound, now)).toEqual({
    card: { number: '9153****0001', kindLabel: '法人卡', boundText: '11-20 08:30' },
    realnameLabel: '高',
    realnameHigh: true,
    needsActivation: false,
  });
  expect(cardSection({ card: { card_number: '1', kind: 'operator' }, realname_level: 'medium' }).card).toEqual({ number: '1', kindLabel: '操作员卡', boundText: '' });
  expect(cardSection({ card: null, realname_level: 'medium' }).realnameLabel).toBe('中');
  expect(cardSection({ realname_level: 'none', needs_activation: true })).toMatchObject({ card: null, realnameLabel: '未认证', needsActivation: true });
  expect(cardSection(null)).toMatchObject({ card: null, realnameLabel: '未认证', needsActivation: false });
});
