/**
 * The card subpackage's screens (pairing confirmation, PC enrolment, the PC list), the scan
 * entries on the login and chat screens, and the card part of "我的" with activation.
 */
const { mount, settle, text } = require('../support/simulate');
const { install, CAPTCHA } = require('../support/fake-server');
const { signIn, SESSION, UNIT, PAIRING, DEVICE: ENROLLED_PC } = require('../support/fixtures');

const TOKEN = 'q3VdJ0bX9c_TlK2m-8wZyA';
const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap');
const navigations = () => global.__navigations.map((n) => `${n.name} ${n.url}`);
const toastText = (page) => page.querySelector('#t-toast').instance.data.message;
const dialogText = (page) => page.querySelector('#t-dialog').instance.data.content;
/** What a t-cell shows: title, note, description. */
const cell = (node) => ['title', 'note', 'description'].map((k) => node.instance.data[k] || '').join(' ').trim();

const pairing = (extra) => Object.assign({}, PAIRING, extra);

/** The phone-events long-poll: every poll out waits until the test publishes the next state (like pub/sub). */
function longPoll() {
  let waiting = [];
  const ready = [];
  return {
    route: () => (ready.length ? Promise.resolve(ready.shift()) : new Promise((resolve) => waiting.push(resolve))),
    push(state) {
      if (!waiting.length) ready.push(state);
      waiting.forEach((resolve) => resolve(state));
      waiting = [];
    },
  };
}

function openPair(routes, scanned) {
  const events = longPoll();
  const calls = install(
    Object.assign(
      {
        'POST /api/pairings/scan': () => Object.assign({ phone_key: 'pk-secret-0123456789' }, scanned || PAIRING),
        'GET /api/pairings/p-1/phone-events': events.route,
      },
      routes
    )
  );
  const page = mount('packageCard/pages/pair/index', undefined, { token: TOKEN });
  const polls = () => calls.filter((c) => c.key === 'GET /api/pairings/p-1/phone-events');
  return { page, calls, events, polls };
}

describe('pairing confirmation', () => {
  test('card login without a session: PC, unit, action and code; confirm; waiting; done -> claim -> like a login', async () => {
    const { page, calls, events, polls } = openPair({
      'POST /api/pairings/p-1/confirm': () => pairing({ state: 'confirmed', version: 3 }),
      'POST /api/pairings/p-1/claim': () => Object.assign({ token: 'card-tok' }, SESSION),
    });
    expect(page.instance.data.view).toBe('loading');
    await settle(10);
    expect(page.instance.data.view).toBe('scanned');
    const shown = text(page);
    ['卡登录', '王家湾村委会办公室', '王家湾村', 'ABCD-2345', '请核对电脑屏幕上显示的配对码'].forEach((t) => expect(shown).toContain(t));
    const scan = calls.find((c) => c.key === 'POST /api/pairings/scan');
    expect(scan.data).toEqual({ token: TOKEN });
    expect(scan.header.Authorization).toBeUndefined();
    expect(polls()[0].header['X-Pairing-Key']).toBe('pk-secret-0123456789');
    expect([polls()[0].query.get('since'), polls()[0].query.get('wait')]).toEqual(['2', '25']);

    tapButton(page.querySelector('.confirm'));
    await settle(10);
    expect(calls.find((c) => c.key === 'POST /api/pairings/p-1/confirm').data).toEqual({ phone_key: 'pk-secret-0123456789' });
    expect(page.instance.data.view).toBe('waiting');
    expect(text(page)).toContain('请在电脑上插入IC卡');

    expect(polls().map((c) => c.query.get('since'))).toEqual(['2', '3']); // the poll asks since the confirm's version
    events.push(pairing({ state: 'done', version: 4, result: { message: '卡登录成功', account: { id: 6 }, created: null } }));
    await settle(20);
    expect(calls.find((c) => c.key === 'POST /api/pairings/p-1/claim').data).toEqual({ phone_key: 'pk-secret-0123456789' });
    expect(global.wx.getStorageSync('cwt:session').token).toBe('card-tok');
    expect(navigations()).toEqual(['reLaunch /pages/chat/index']);
  });

  test('card login: a claim refused as not done (the server could not keep the result) shows the pairing as it now is', async () => {
    const { page, events, polls } = openPair({
      'POST /api/pairings/p-1/claim': () => ({ status: 409, body: { error: { code: 'pairing_not_done', message: '卡认证尚未完成', fields: {} } } }),
    });
    await settle(10);
    events.push(pairing({ state: 'done', version: 4, result: { message: '卡登录成功' } }));
    await settle(20);
    const error = { code: 'pairing_failed', message: '服务器未能保存结果，请在电脑上刷新二维码后重试' };
    events.push(pairing({ state: 'failed', version: 5, error }));
    await settle(20);
    expect(polls().map((c) => c.query.get('wait')).pop()).toBe('0'); // read at once, not a long-poll
    expect(page.instance.data.view).toBe('failed');
    expect(text(page.querySelector('.state-failed'))).toContain('服务器未能保存结果');
    expect(navigations()).toEqual([]);
  });

  test('card login: a claim answered pairing_not_done while the pairing is still done (its account not committed yet) is sent again', async () => {
    let claims = 0;
    const { page, calls, events } = openPair({
      'POST /api/pairings/p-1/claim': () =>
        ++claims === 1
          ? { status: 409, body: { error: { code: 'pairing_not_done', message: '卡认证尚未完成', fields: {} } } }
          : Object.assign({ token: 'card-tok' }, SESSION),
    });
    await settle(10);
    const done = pairing({ state: 'done', version: 4, result: { message: '卡登录成功' } });
    events.push(done);
    await settle(20);
    events.push(done); // read once: still done (the commit comes a moment later)
    await settle(20);
    await new Promise((r) => setTimeout(r, 1100));
    await settle(20);
    expect(calls.filter((c) => c.key === 'POST /api/pairings/p-1/claim')).toHaveLength(2);
    expect(global.wx.getStorageSync('cwt:session').token).toBe('card-tok');
    expect(navigations()).toEqual(['reLaunch /pages/chat/index']);
    expect(page.instance.data.view).toBe('claiming');
  });

  test('card login: a claim lost on the network is sent again; a claim answered 410 is not', async () => {
    let claims = 0;
    const { page, events, calls } = openPair({
      'POST /api/pairings/p-1/claim': () => (++claims === 1 ? { status: 503, body: '' } : Object.assign({ token: 'card-tok' }, SESSION)),
    });
    await settle(10);
    events.push(pairing({ state: 'done', version: 4, result: { message: '卡登录成功' } }));
    await settle(20);
    await new Promise((r) => setTimeout(r, 1100));
    await settle(20);
    expect(calls.filter((c) => c.key === 'POST /api/pairings/p-1/claim')).toHaveLength(2);
    expect(global.wx.getStorageSync('cwt:session').token).toBe('card-tok');
    expect(navigations()).toEqual(['reLaunch /pages/chat/index']);
    expect(page.instance.data.view).toBe('claiming');
  });

  test('card login of an account with several units goes on to the unit choice', async () => {
    const two = [UNIT, Object.assign({}, UNIT, { id: 8, unit_id: 9, unit_name: '王家湾村' })];
    const { events } = openPair({
      'POST /api/pairings/p-1/claim': () => Object.assign({ token: 'card-tok' }, SESSION, { unit: null, units: two }),
    });
    await settle(10);
    events.push(pairing({ state: 'done', version: 4, result: { message: '卡登录成功' } }));
    await settle(20);
    expect(navigations()).toEqual(['reLaunch /packageLogin/pages/unit/index']);
  });

  test('binding with a session: the session goes with the scan; done shows the result and refreshes the profile', async () => {
    signIn();
    const bind = { action: 'bind', action_label: '绑定IC卡' };
    const { page, calls, events } = openPair(
      {
        'POST /api/pairings/p-1/confirm': () => pairing(Object.assign({ state: 'confirmed', version: 3, confirmed_by: { name: '贾红', username: 'demo_town_admin' } }, bind)),
        'GET /api/profile': () => ({ name: '贾红', realname_level: 'high', card: { card_number: '9153****0001', kind: 'operator' } }),
      },
      pairing(bind)
    );
    await settle(10);
    expect(calls.find((c) => c.key === 'POST /api/pairings/scan').header.Authorization).toBe('Bearer tok-1');
    tapButton(page.querySelector('.confirm'));
    await settle(10);
    expect(text(page.querySelector('.confirmed-by'))).toBe('确认人：贾红');
    events.push(pairing(Object.assign({ state: 'done', version: 4, result: { message: 'IC卡已绑定到您的账号', created: null } }, bind)));
    await settle(20);
    expect(page.instance.data.view).toBe('done');
    expect(text(page.querySelector('.state-done'))).toContain('绑定IC卡已完成');
    expect(text(page.querySelector('.state-done'))).toContain('IC卡已绑定到您的账号');
    expect(calls.filter((c) => c.key === 'GET /api/profile')).toHaveLength(1);
    expect(global.wx.getStorageSync('cwt:cache:profile:6:6').value.realname_level).toBe('high');
    expect(global.__navigations).toHaveLength(0);
    tapButton(page.querySelector('.back'));
    await settle();
    expect(navigations()).toEqual(['reLaunch /pages/chat/index']); // opened first: no page to go back to
  });

  test('failed: the server\'s Chinese message', async () => {
    const { page, events } = openPair({});
    await settle(10);
    events.push(pairing({ state: 'failed', version: 4, error: { code: 'card_untrusted', message: '这张IC卡不是认可的发卡机构签发的' } }));
    await settle(10);
    expect(page.instance.data.view).toBe('failed');
    expect(text(page.querySelector('.state-failed'))).toContain('这张IC卡不是认可的发卡机构签发的');
  });

  test('expired while waiting, and a QR that was already used or expired when scanned', async () => {
    const { page, events, polls } = openPair({});
    await settle(10);
    events.push(pairing({ state: 'expired', version: 3 }));
    await settle(10);
    expect(text(page.querySelector('.state-expired'))).toContain('二维码已过期');
    const count = polls().length;
    await settle(10);
    expect(polls()).toHaveLength(count); // final: no more polls

    install({
      'POST /api/pairings/scan': () => ({
        status: 410,
        body: { error: { code: 'pairing_invalid', message: '二维码已过期或已被使用，请在电脑上刷新二维码后重新扫码' } },
      }),
    });
    const used = mount('packageCard/pages/pair/index', undefined, { token: TOKEN });
    await settle(10);
    expect(used.instance.data.view).toBe('expired');
    expect(text(used)).toContain('二维码已过期或已被使用');
  });

  test('cancel: the phone declines, the page says so and stops following', async () => {
    const { page, calls, polls } = openPair({ 'POST /api/pairings/p-1/cancel': () => pairing({ state: 'cancelled', version: 3 }) });
    await settle(10);
    tapButton(page.querySelector('.cancel'));
    await settle(10);
    expect(calls.find((c) => c.key === 'POST /api/pairings/p-1/cancel').data).toEqual({ phone_key: 'pk-secret-0123456789' });
    expect(page.instance.data.view).toBe('cancelled');
    expect(text(page.querySelector('.state-cancelled'))).toContain('已取消');
    expect(polls()).toHaveLength(1); // only the one that was out
  });

  test('refused scans: outside the account\'s scope, binding without a login, no token', async () => {
    install({
      'POST /api/pairings/scan': () => ({ status: 403, body: { error: { code: 'pairing_outside_scope', message: '这台电脑不属于您所在单位的范围，不能与您的账号配对' } } }),
    });
    const outside = mount('packageCard/pages/pair/index', undefined, { token: TOKEN });
    await settle(10);
    expect(outside.instance.data.view).toBe('error');
    expect(text(outside)).toContain('这台电脑不属于您所在单位的范围');

    install({});
    const none = mount('packageCard/pages/pair/index', undefined, {});
    await settle();
    expect(text(none)).toContain('缺少配对二维码');
  });

  test('leaving the page stops the long-poll; losing the network shows it, and polling resumes when it is back', async () => {
    const listeners = [];
    global.wx.onNetworkStatusChange = (fn) => listeners.push(fn);
    const { page, events, polls } = openPair({});
    await settle(10);
    expect(polls()).toHaveLength(1);
    listeners.forEach((fn) => fn({ isConnected: false, networkType: 'none' }));
    await settle();
    expect(text(page.querySelector('.waiting-network'))).toContain('网络已断开');
    events.push(pairing({ version: 2 })); // the answer to the poll of before the drop: forgotten
    await settle(10);
    expect(polls()).toHaveLength(1);
    listeners.forEach((fn) => fn({ isConnected: true, networkType: '4g' }));
    await settle(10);
    expect(polls()).toHaveLength(2);
    expect(page.querySelector('.waiting-network')).toBeFalsy();

    page.detach(); // onUnload
    events.push(pairing({ state: 'confirmed', version: 3 }));
    await settle(10);
    expect(polls()).toHaveLength(2);
  });
});

describe('enrolling an office PC', () => {
  const PREVIEW = { hostname: 'DESKTOP-WJW01', fingerprint: '3F2A-9C41-07BE-D5E8', expires_at: '2026-11-22T20:45:00+00:00' };
  const DEVICE = Object.assign({}, ENROLLED_PC, { enrolled_by: { id: 6, name: '贾红' } });

  test('shows host name and fingerprint to compare; checks the form; unit from the admin\'s scope; approve -> the device', async () => {
    signIn();
    const calls = install({
      ['GET /api/devices/enrolments/' + TOKEN]: () => PREVIEW,
      'GET /api/units': () => ({ items: [{ id: 4, name: '白沙镇' }, { id: 7, name: '王家湾村' }], total: 2, next_cursor: null }),
      [`POST /api/devices/enrolments/${TOKEN}/approve`]: () => ({ status: 201, body: DEVICE }),
    });
    const page = mount('packageCard/pages/enrol/index', undefined, { token: TOKEN });
    await settle(10);
    expect(page.instance.data.view).toBe('form');
    expect(text(page.querySelector('.fingerprint'))).toBe('3F2A-9C41-07BE-D5E8');
    expect(text(page)).toContain('应与电脑屏幕上读卡程序显示的指纹完全一致');
    expect(cell(page.querySelector('.hostname'))).toBe('电脑主机名 DESKTOP-WJW01');
    expect(page.instance.data).toMatchObject({ name: 'DESKTOP-WJW01', unitId: 4, unitName: '白沙镇' }); // the admin's own unit first

    page.setData({ name: '   ', unitId: 0 });
    tapButton(page.querySelector('.approve'));
    await settle();
    expect(page.instance.data.errors).toEqual({ name: '请填写电脑名称', unit_id: '请选择电脑所属单位' });
    expect(text(page)).toContain('请选择电脑所属单位');
    page.setData({ name: '字'.repeat(51) });
    tapButton(page.querySelector('.approve'));
    await settle();
    expect(page.instance.data.errors.name).toBe('电脑名称不能超过 50 个字');

    page.querySelector('.unit').instance.triggerEvent('click');
    await settle(10);
    page.instance.onUnitQuery({ detail: { value: '王家' } });
    tapButton(page.querySelector('.unit-search'));
    await settle(10);
    const searches = calls.filter((c) => c.key === 'GET /api/units');
    expect(searches[searches.length - 1].query.get('q')).toBe('王家');
    const options = page.querySelectorAll('.unit-option');
    expect(options.map((o) => text(o))).toEqual(['白沙镇', '王家湾村']);
    options[1].dispatchEvent('tap');
    await settle();
    expect(page.instance.data).toMatchObject({ unitId: 7, unitName: '王家湾村', picking: false });

    page.instance.onField({ currentTarget: { dataset: { field: 'name' } }, detail: { value: '王家湾村委会办公室' } });
    tapButton(page.querySelector('.approve'));
    await settle(10);
    const approve = calls.find((c) => c.key.endsWith('/approve'));
    expect(approve.data).toEqual({ name: '王家湾村委会办公室', unit_id: 7 });
    expect(approve.header['Idempotency-Key']).toBeTruthy();
    expect(page.instance.data.view).toBe('done');
    const done = text(page);
    ['已登记', '王家湾村委会办公室', '王家湾村', '3F2A-9C41-07BE-D5E8', '贾红'].forEach((t) => expect(done).toContain(t));
    tapButton(page.querySelector('.to-devices'));
    await settle();
    expect(navigations()).toEqual(['redirectTo /packageCard/pages/devices/index']);
  });

  test('the server\'s refusals: an expired QR, a field message on approve', async () => {
    signIn();
    install({
      ['GET /api/devices/enrolments/' + TOKEN]: () => ({ status: 410, body: { error: { code: 'enrolment_invalid', message: '登记二维码已过期或已使用，请在读卡程序上刷新二维码' } } }),
    });
    const expired = mount('packageCard/pages/enrol/index', undefined, { token: TOKEN });
    await settle(10);
    expect(expired.instance.data.view).toBe('error');
    expect(text(expired)).toContain('登记二维码已过期或已使用');

    install({
      ['GET /api/devices/enrolments/' + TOKEN]: () => PREVIEW,
      [`POST /api/devices/enrolments/${TOKEN}/approve`]: () => ({
        status: 404,
        body: { error: { code: 'not_found', message: '单位不存在', fields: { unit_id: '单位不存在或不在您的管理范围内' } } },
      }),
    });
    const page = mount('packageCard/pages/enrol/index', undefined, { token: TOKEN });
    await settle(10);
    tapButton(page.querySelector('.approve'));
    await settle(10);
    expect(page.instance.data.view).toBe('form');
    expect(text(page)).toContain('单位不存在或不在您的管理范围内');
  });

  test('only admins: a clerk sees why, and nothing is asked of the server', async () => {
    signIn({ unit: Object.assign({}, UNIT, { role: 'clerk', role_label: '录入员' }) });
    const calls = install({});
    const page = mount('packageCard/pages/enrol/index', undefined, { token: TOKEN });
    await settle();
    expect(text(page)).toContain('只有管理员可以登记或撤销办公电脑');
    expect(calls.filter((c) => c.key.includes('/api/devices'))).toHaveLength(0);
  });

  test('without a session the page sends the user to the login', async () => {
    install({});
    mount('packageCard/pages/enrol/index', undefined, { token: TOKEN });
    await settle();
    expect(navigations()).toEqual(['reLaunch /packageLogin/pages/login/index']);
  });

  test('the PC list: name, unit, status; revoke after a confirm; more; scan to enrol', async () => {
    signIn();
    const other = Object.assign({}, DEVICE, { id: 2, name: '白沙镇政府', unit: { id: 4, name: '白沙镇' }, status: 'revoked', status_label: '已撤销' });
    const calls = install({
      'GET /api/devices': (data, call) =>
        call.query.get('cursor') === '2'
          ? { items: [Object.assign({}, DEVICE, { id: 1, name: '李家坪村委会' })], total: null, next_cursor: null }
          : { items: [DEVICE, other], total: 3, next_cursor: 2 },
      'POST /api/devices/3/revoke': () => ({ status: 200, body: Object.assign({}, DEVICE, { status: 'revoked', status_label: '已撤销', revoked_at: '2026-11-22T21:00:00+00:00' }) }),
    });
    const page = mount('packageCard/pages/devices/index');
    await settle(10);
    expect(text(page)).toContain('共 3 台');
    const rows = page.querySelectorAll('.device');
    expect(rows.map((r) => text(r))).toEqual([
      expect.stringMatching(/王家湾村委会办公室.*王家湾村 · 3F2A-9C41-07BE-D5E8.*已登记.*撤销登记/),
      expect.stringMatching(/白沙镇政府.*已撤销$/),
    ]);
    page.querySelector('.revoke').dispatchEvent('tap');
    await settle();
    expect(dialogText(page)).toContain('撤销后，“王家湾村委会办公室”上的读卡程序将不能再用于卡登录');
    page.querySelector('#t-dialog').instance._onConfirm();
    await settle(10);
    expect(calls.filter((c) => c.key === 'POST /api/devices/3/revoke')).toHaveLength(1);
    expect(page.querySelectorAll('.device-revoked')).toHaveLength(2);
    expect(page.querySelector('.revoke')).toBeFalsy();
    expect(toastText(page)).toBe('已撤销登记');

    page.querySelector('.more').dispatchEvent('tap');
    await settle(10);
    expect(page.querySelectorAll('.device')).toHaveLength(3);
    expect(page.querySelector('.more')).toBeFalsy();

    global.wx.scanCode = (o) => o.success({ result: `cwt://enrol/${TOKEN}` });
    tapButton(page.querySelector('.scan'));
    await settle();
    expect(navigations()).toEqual([`navigateTo /packageCard/pages/enrol/index?token=${TOKEN}`]);
  });
});

describe('scanning from the login and chat screens', () => {
  test('login: "卡登录 / 扫码" opens the pairing page for a pair code; an enrol code or other text is explained', async () => {
    install({ 'GET /api/auth/captcha': () => CAPTCHA });
    const page = mount('packageLogin/pages/login/index');
    await settle();
    global.wx.scanCode = (o) => o.success({ result: ` cwt://pair/${TOKEN} ` });
    tapButton(page.querySelector('.scan-login'));
    await settle();
    expect(navigations()).toEqual([`navigateTo /packageCard/pages/pair/index?token=${TOKEN}`]);
    global.wx.scanCode = (o) => o.success({ result: `cwt://enrol/${TOKEN}` });
    tapButton(page.querySelector('.scan-login'));
    await settle();
    expect(toastText(page)).toContain('登记办公电脑需要管理员账号');
    global.wx.scanCode = (o) => o.success({ result: 'https://example.com' });
    tapButton(page.querySelector('.scan-login'));
    await settle();
    expect(toastText(page)).toContain('这不是村务通读卡程序的二维码');
    global.wx.scanCode = (o) => o.fail({ errMsg: 'scanCode:fail cancel' });
    tapButton(page.querySelector('.scan-login'));
    await settle();
    expect(global.__navigations).toHaveLength(1);
  });

  test('chat: a PC\'s codes open their pages; a damaged one is explained and not sent', async () => {
    signIn();
    const calls = install({ 'GET /api/session': () => SESSION, 'POST /api/chat': () => ({ blocks: [] }) });
    const page = mount('pages/chat/index');
    await settle();
    global.wx.scanCode = (o) => o.success({ result: `cwt://enrol/${TOKEN}` });
    page.querySelector('.tool-scan').dispatchEvent('tap');
    await settle();
    global.wx.scanCode = (o) => o.success({ result: `cwt://pair/${TOKEN}` });
    page.querySelector('.tool-scan').dispatchEvent('tap');
    await settle();
    expect(navigations()).toEqual([
      `navigateTo /packageCard/pages/enrol/index?token=${TOKEN}`,
      `navigateTo /packageCard/pages/pair/index?token=${TOKEN}`,
    ]);
    global.wx.scanCode = (o) => o.success({ result: 'cwt://pair/' });
    page.querySelector('.tool-scan').dispatchEvent('tap');
    await settle();
    expect(toastText(page)).toContain('二维码无法识别或已损坏');
    expect(calls.filter((c) => c.key === 'POST /api/chat')).toHaveLength(0);
  });
});

describe('"我的": IC card, real-name level, activation', () => {
  const CARD = { card_number: '9153****0001', kind: 'legal_rep', kind_label: '法人卡', bound_at: '2026-11-20T08:30:00+08:00' };

  test('a bound card: masked number, kind, date; unbind after a confirm; the real-name level; admins see the PCs', async () => {
    signIn();
    let card = CARD;
    const calls = install({
      'GET /api/profile': () => ({ name: '贾红', realname_level: card ? 'high' : 'medium', needs_activation: false, card }),
      'DELETE /api/profile/card': () => {
        card = null;
        return { status: 204 };
      },
    });
    const page = mount('packageAccount/pages/index/index');
    await settle(10);
    const bound = cell(page.querySelector('.card-bound'));
    ['已绑定IC卡', '9153****0001', '法人卡', '绑定'].forEach((t) => expect(bound).toContain(t));
    expect(cell(page.querySelector('.realname'))).toBe('实名认证等级 高');
    expect(page.querySelector('.activate')).toBeFalsy();
    expect(page.querySelector('.devices').instance.data.url).toBe('/packageCard/pages/devices/index');

    page.querySelector('.card-unbind').instance.triggerEvent('click');
    await settle();
    expect(dialogText(page)).toContain('解除后不能再用这张IC卡登录本账号');
    page.querySelector('#t-dialog').instance._onConfirm();
    await settle(10);
    expect(calls.filter((c) => c.key === 'DELETE /api/profile/card')).toHaveLength(1);
    expect(page.querySelector('.card-bound')).toBeFalsy();
    expect(cell(page.querySelector('.card-none'))).toContain('在办公电脑的读卡程序上选择“绑定IC卡”，然后扫码');
    expect(cell(page.querySelector('.realname'))).toMatch(/^实名认证等级 中 用IC卡实名认证/);
  });

  test('an account a card login created: the prompt, then a password under the usual policy', async () => {
    signIn({ username: '91530100_ADMIN', unit: Object.assign({}, UNIT, { role: 'clerk' }) });
    install({ 'GET /api/profile': () => ({ name: '李四', realname_level: 'high', needs_activation: true, card: null }) });
    const page = mount('packageAccount/pages/index/index');
    await settle(10);
    expect(text(page.querySelector('.activate'))).toContain('这个账号由IC卡登录自动创建，还没有登录密码');
    expect(page.querySelector('.devices')).toBeFalsy(); // not an admin
    tapButton(page.querySelector('.activate-go'));
    await settle();
    expect(navigations()).toEqual(['navigateTo /packageAccount/pages/activate/index']);

    const calls = install({ 'POST /api/profile/activate': () => ({ status: 204 }) });
    const activate = mount('packageAccount/pages/activate/index');
    await settle();
    expect(text(activate)).toContain('91530100_ADMIN');
    activate.setData({ newPassword: 'abcdefgh', confirm: 'abcdefgh' });
    tapButton(activate.querySelector('.submit'));
    await settle();
    expect(text(activate)).toContain('密码为 8-32 位');
    activate.setData({ newPassword: 'Xinmima#2026', confirm: 'Xinmima#2027' });
    tapButton(activate.querySelector('.submit'));
    await settle();
    expect(text(activate)).toContain('两次输入的密码不一致');
    expect(calls).toHaveLength(0);
    activate.setData({ newPassword: 'Xinmima#2026', confirm: 'Xinmima#2026' });
    tapButton(activate.querySelector('.submit'));
    await settle(10);
    expect(calls.map((c) => [c.key, c.data])).toEqual([['POST /api/profile/activate', { new_password: 'Xinmima#2026' }]]);
    expect(toastText(activate)).toContain('密码已设置');
  });
});
