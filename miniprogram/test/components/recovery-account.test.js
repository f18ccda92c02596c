/** Recovery and account screens (subpackages): their steps, the server's messages, the checks. */
const { mount, settle, text } = require('../support/simulate');
const { install, CAPTCHA } = require('../support/fake-server');
const { signIn, SESSION } = require('../support/fixtures');

const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap');
const typeCaptcha = (page, value) => page.querySelector('#captcha').querySelector('.input').instance.triggerEvent('change', { value });

/** The picture picker gives one small PNG (the same bytes each read). */
function pickOnePicture() {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7, 7]).buffer;
  global.wx.getFileSystemManager = () => ({ readFileSync: () => png });
  global.wx.chooseMedia = (o) => o.success({ tempFiles: [{ tempFilePath: 'wxfile://a.png', size: 10 }] });
}

const REVIEW_FIELDS = { name: '王五', idNumber: '11010519491231002X', phone: '13900000014', statement: '手机号换了' };

/** The review page of ``kind`` with a picture picked (by the picker installed), its fields and the captcha typed. */
async function filledReview(kind, fields = {}) {
  const page = mount('packageRecovery/pages/review/index', undefined, { kind });
  await settle();
  page.querySelector('.thumb-add').dispatchEvent('tap');
  page.setData({ ...REVIEW_FIELDS, ...fields });
  typeCaptcha(page, 'ab12');
  return page;
}

test('forgot password: user name -> code and ID number -> new password -> done', async () => {
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/recovery/password/start': () => ({ ticket: 't1', phone: '139****0014' }),
    'POST /api/recovery/password/send-code': () => ({ ticket: 't2', phone: '139****0014', resend_after: 60, expires_in: 300 }),
    'POST /api/recovery/password/verify': () => ({ reset_ticket: 'rt', expires_in: 900 }),
    'POST /api/recovery/password/reset': () => ({ status: 204 }),
  });
  const page = mount('packageRecovery/pages/password/index');
  await settle();
  page.setData({ username: 'op_wang' });
  typeCaptcha(page, 'ab12');
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(page.instance.data).toMatchObject({ step: 'verify', stepNo: 2, phone: '139****0014' });
  expect(text(page)).toContain('第 2 步');
  typeCaptcha(page, 'cd34');
  tapButton(page.querySelector('#codeButton').querySelector('.btn'));
  await settle(10);
  page.setData({ code: '123456', idNumber: '110105194912310021' }); // wrong check character
  tapButton(page.querySelector('.submit'));
  await settle();
  expect(text(page)).toContain('身份证号码不正确');
  page.setData({ idNumber: '11010519491231002x' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  page.setData({ newPassword: 'Newpass#2026', confirm: 'Newpass#2026' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(text(page)).toContain('密码已重置');
  const bodies = calls.filter((c) => c.key.startsWith('POST')).map((c) => [c.key, c.data, c.header.Authorization]);
  expect(bodies).toEqual([
    ['POST /api/recovery/password/start', { username: 'op_wang', captcha_id: 'cap-1', captcha_answer: 'ab12' }, undefined],
    ['POST /api/recovery/password/send-code', { ticket: 't1', captcha_id: 'cap-1', captcha_answer: 'cd34' }, undefined],
    ['POST /api/recovery/password/verify', { ticket: 't2', code: '123456', id_number: '11010519491231002X' }, undefined],
    ['POST /api/recovery/password/reset', { reset_ticket: 'rt', new_password: 'Newpass#2026' }, undefined],
  ]);
});

test('forgot password: when only a manual review can help, the page says so and links to it', async () => {
  install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/recovery/password/start': () => ({ ticket: 't1', phone: '139****0014' }),
    'POST /api/recovery/password/verify': () => ({
      status: 422,
      body: { error: { code: 'manual_review_needed', message: '该账号没有登记身份证件，无法自动核验，请申请人工审核', fields: {} } },
    }),
  });
  const page = mount('packageRecovery/pages/password/index');
  await settle();
  page.setData({ username: 'op_wang' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  page.setData({ code: '123456', idNumber: '11010519491231002X' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(text(page.querySelector('.review-hint'))).toContain('请申请人工审核');
  page.querySelector('.review-hint').dispatchEvent('tap');
  await settle();
  expect(global.__navigations.pop()).toMatchObject({ name: 'redirectTo', url: '/packageRecovery/pages/review/index?kind=password' });
});

test('forgot user name by phone lists the accounts found', async () => {
  install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/recovery/username/by-phone/send-code': () => ({ ticket: 't1', phone: '139****0014', resend_after: 60 }),
    'POST /api/recovery/username/by-phone/verify': () => ({ accounts: [{ username: 'op_wang', name: '王*', units: ['王家湾村', '白沙镇'] }] }),
  });
  const page = mount('packageRecovery/pages/username/index');
  await settle();
  page.setData({ phone: '13900000014' });
  typeCaptcha(page, 'ab12');
  tapButton(page.querySelector('#codeButton').querySelector('.btn'));
  await settle(10);
  page.setData({ code: '654321' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  const found = page.querySelectorAll('.account');
  expect(found.map((c) => [c.instance.data.title, c.instance.data.description])).toEqual([['op_wang', '王* · 王家湾村、白沙镇']]);
});

test('manual review: checks before upload (count, size), then one multipart request', async () => {
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/reviews': () => ({ status: 202, body: { message: '已提交，审核结果将以短信通知。' } }),
  });
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7, 7]).buffer;
  global.wx.getFileSystemManager = () => ({ readFileSync: () => png });
  global.wx.chooseMedia = (o) =>
    o.success({
      tempFiles: [
        { tempFilePath: 'wxfile://a.png', size: 10 },
        { tempFilePath: 'wxfile://huge.jpg', size: 5 * 1024 * 1024 },
      ],
    });
  const page = mount('packageRecovery/pages/review/index', undefined, { kind: 'password' });
  await settle();
  tapButton(page.querySelector('.submit'));
  await settle();
  expect(page.instance.data.errors).toMatchObject({ images: '请上传 1 到 3 张图片', username: '请填写用户名', phone: '请输入正确的 11 位手机号' });
  page.querySelector('.thumb-add').dispatchEvent('tap');
  await settle();
  expect(page.instance.data.images.map((i) => [i.path, i.sizeText])).toEqual([['wxfile://a.png', '1 KB']]); // the 5 MB one was refused
  page.setData({ username: 'op_wang', name: '王五', idNumber: '11010519491231002X', phone: '13900000014', statement: '手机号换了，身份证号也没登记' });
  typeCaptcha(page, 'ab12');
  tapButton(page.querySelector('.submit'));
  await settle(10);
  const sent = calls.find((c) => c.key === 'POST /api/reviews');
  expect(sent.header['Content-Type']).toMatch(/^multipart\/form-data; boundary=----cwt[0-9a-f]{32}$/);
  expect(sent.header['Idempotency-Key']).toBeTruthy();
  const body = Buffer.from(sent.data).toString('utf8');
  expect(body).toContain('name="kind"\r\n\r\npassword');
  expect(body).toContain('name="statement"\r\n\r\n手机号换了，身份证号也没登记');
  expect(body).toContain('name="images"; filename="image1.png"\r\nContent-Type: image/png');
  expect(text(page)).toContain('已提交，审核结果将以短信通知。');
});

test('"我的": profile from the cache at once (offline, with its time), then fresh; logout clears history and cache', async () => {
  signIn();
  global.wx.setStorageSync('cwt:cache:profile:6:6', { value: { name: '贾红', phone: '139****0006', id_number: '5301**********0006' }, time: Date.now() - 3600000 });
  global.wx.setStorageSync('cwt:cache-index', ['profile:6:6']);
  global.wx.setStorageSync('cwt:history:6', [{ id: 'm1', role: 'user', text: '汇总' }]);
  let release;
  install({
    'GET /api/profile': () => new Promise((r) => (release = r)),
    'POST /api/auth/logout': () => ({ status: 204 }),
  });
  const page = mount('packageAccount/pages/index/index');
  await settle();
  expect(page.instance.data.offlineText).toMatch(/^离线 · 上次结果/);
  expect(text(page)).toContain('139****0006');
  release({ name: '贾红', phone: '139****9999', id_number: null });
  await settle(10);
  expect(page.instance.data.offlineText).toBe('');
  expect(text(page)).toContain('139****9999');
  page.querySelector('.logout').instance.triggerEvent('click');
  await settle();
  page.querySelector('#t-dialog').instance._onConfirm();
  await settle(10);
  expect(global.wx.getStorageSync('cwt:session')).toBe('');
  expect(global.wx.getStorageSync('cwt:history:6')).toBe('');
  expect(global.wx.getStorageSync('cwt:cache:profile:6:6')).toBe('');
  expect(global.__navigations.pop()).toMatchObject({ name: 'reLaunch', url: '/packageLogin/pages/login/index' });
});

test('own sessions: the list, and "结束" on another device after confirming', async () => {
  signIn();
  const now = Date.now() / 1000;
  let list = [
    { id: 'aaa', current: true, ip: '10.0.0.1', user_agent: 'Mozilla/5.0 (iPhone) MicroMessenger/8.0 miniProgram', started_at: now, last_seen: now },
    { id: 'bbb', current: false, ip: '10.0.0.2', user_agent: 'Mozilla/5.0 (Windows NT 10.0)', started_at: now, last_seen: now },
  ];
  const calls = install({
    'GET /api/sessions': () => list,
    'DELETE /api/sessions/bbb': () => {
      list = list.slice(0, 1);
      return { status: 204 };
    },
  });
  const page = mount('packageAccount/pages/sessions/index');
  await settle(10);
  expect(page.instance.data.sessions.map((s) => [s.device, s.current])).toEqual([
    ['微信小程序', true],
    ['电脑', false],
  ]);
  expect(text(page)).toContain('本机');
  tapButton(page.querySelector('.end'));
  await settle();
  page.querySelector('#t-dialog').instance._onConfirm();
  await settle(10);
  expect(calls.find((c) => c.key === 'DELETE /api/sessions/bbb').header['Idempotency-Key']).toBeTruthy();
  expect(page.instance.data.sessions).toHaveLength(1);
});

test('own sessions: devices in Chinese where recognised, else "未知设备"; the raw user agent only as secondary text', async () => {
  signIn();
  const now = Date.now() / 1000;
  const wechat = 'Mozilla/5.0 (Linux; Android 12) MicroMessenger/8.0.40 Process/appbrand0 MiniProgramEnv/android';
  install({
    'GET /api/sessions': () => [
      { id: 'a', current: true, ip: '10.0.0.1', user_agent: wechat, started_at: now, last_seen: now },
      { id: 'b', current: false, ip: '10.0.0.2', user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)', started_at: now, last_seen: now },
      { id: 'c', current: false, ip: '10.0.0.3', user_agent: 'okhttp/4.9', started_at: now, last_seen: now },
      { id: 'd', current: false, ip: '10.0.0.4', user_agent: '', started_at: now, last_seen: now },
    ],
  });
  const page = mount('packageAccount/pages/sessions/index');
  await settle(10);
  const sessions = page.instance.data.sessions;
  expect(sessions.map((s) => [s.device, s.agent])).toEqual([
    ['微信小程序', wechat],
    ['电脑', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)'],
    ['未知设备', 'okhttp/4.9'],
    ['未知设备', ''],
  ]);
  const cells = page.querySelectorAll('.session');
  expect(cells.map((c) => c.instance.data.title)).toEqual(['微信小程序', '电脑', '未知设备', '未知设备']);
  expect(page.querySelectorAll('.agent').map(text)).toEqual([wechat, 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0)', 'okhttp/4.9']);
});

test('the account pages need a complete session', async () => {
  signIn({ must_change_password: true });
  install({});
  mount('packageAccount/pages/profile/index');
  await settle();
  expect(global.__navigations.pop()).toMatchObject({ name: 'reLaunch', url: '/packageLogin/pages/login/password' });
});

test('"解除微信绑定" on an account whose WeChat was unbound meanwhile (elsewhere) shows the server\'s message, and it unbound', async () => {
  signIn();
  install({
    'GET /api/profile': () => ({ name: '贾红' }),
    'GET /api/wechat/binding': () => ({ bound: true, bound_at: '2026-11-20T08:30:00+08:00' }),
    'DELETE /api/wechat/binding': () => ({ status: 404, body: { error: { code: 'not_found', message: '您的账号尚未绑定微信', fields: {} } } }),
  });
  const page = mount('packageAccount/pages/index/index');
  await settle(10);
  page.querySelector('.wechat-unbind').instance.triggerEvent('click');
  await settle();
  page.querySelector('#t-dialog').instance._onConfirm();
  await settle(10);
  expect(page.querySelector('#t-toast').instance.data.message).toBe('您的账号尚未绑定微信');
  expect(page.querySelector('.wechat-unbind')).toBeFalsy();
});

test('manual review: a resend after a timeout or 409 request_in_progress keeps the key, the bytes and the captcha', async () => {
  const answers = [
    { status: 408, body: { error: { code: 'request_timeout', message: '网络较慢，请求超时，请重试', fields: {} } } },
    { status: 409, body: { error: { code: 'request_in_progress', message: '同一操作正在处理中，请稍候', fields: {} } } },
    { status: 202, body: { message: '申请已提交。' } },
  ];
  const calls = install({ 'GET /api/auth/captcha': () => CAPTCHA, 'POST /api/reviews': () => answers.shift() });
  pickOnePicture();
  const page = await filledReview('username', { statement: '第一行\n第二行' });
  for (let i = 0; i < 3; i += 1) {
    tapButton(page.querySelector('.submit'));
    await settle(10);
  }
  const sent = calls.filter((c) => c.key === 'POST /api/reviews');
  expect(sent).toHaveLength(3);
  expect(new Set(sent.map((c) => c.header['Idempotency-Key'])).size).toBe(1);
  expect(new Set(sent.map((c) => Buffer.from(c.data).toString('base64'))).size).toBe(1);
  expect(calls.filter((c) => c.key === 'GET /api/auth/captcha')).toHaveLength(1); // not refreshed: not spent
  expect(Buffer.from(sent[0].data).toString('utf8')).toContain('name="statement"\r\n\r\n第一行\n第二行\r\n');
  expect(text(page)).toContain('申请已提交。');
});

test('manual review: pasted control characters go as spaces (line breaks of the statement stay), as the server takes them', async () => {
  const calls = install({ 'GET /api/auth/captcha': () => CAPTCHA, 'POST /api/reviews': () => ({ status: 202, body: { message: '申请已提交。' } }) });
  pickOnePicture();
  const page = await filledReview('username', { name: '王\t五', statement: '手机号\t换了\r\n身份证\u2028也没登记\r\n' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  const body = Buffer.from(calls.find((c) => c.key === 'POST /api/reviews').data).toString('utf8');
  expect(body).toContain('name="name"\r\n\r\n王 五\r\n');
  expect(body).toContain('name="statement"\r\n\r\n手机号 换了\n身份证 也没登记\r\n');
});

test('manual review: a form changed to another kind after a lost answer is a new submission (a new key), not a replay of the first', async () => {
  const answers = [
    { status: 408, body: { error: { code: 'request_timeout', message: '网络较慢，请求超时，请重试', fields: {} } } },
    { status: 202, body: { message: '申请已提交。' } },
  ];
  const calls = install({ 'GET /api/auth/captcha': () => CAPTCHA, 'POST /api/reviews': () => answers.shift() });
  pickOnePicture();
  const page = await filledReview('password', { username: 'wangwu', statement: '忘了' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  // the server's fingerprint of a streamed upload is its method and path: the same key replays the first answer
  page.querySelectorAll('.mode')[1].dispatchEvent('tap'); // 找回用户名 instead
  await settle();
  tapButton(page.querySelector('.submit'));
  await settle(10);
  const sent = calls.filter((c) => c.key === 'POST /api/reviews');
  expect(sent).toHaveLength(2);
  expect(sent[1].header['Idempotency-Key']).not.toBe(sent[0].header['Idempotency-Key']);
});

test('unit recovery: a ticket the server lost (410 ticket_invalid) goes back to the first step, the form kept', async () => {
  const calls = install({
    'GET /api/auth/captcha': () => CAPTCHA,
    'POST /api/recovery/unit/start': () => ({ ticket: 't1' }),
    'POST /api/recovery/unit/send-code': () => ({
      status: 410,
      body: { error: { code: 'ticket_invalid', message: '操作已过期或无效，请从头开始', fields: {} } },
    }),
  });
  const page = mount('packageRecovery/pages/unit/index');
  await settle();
  page.setData({ creditCode: '91350100M000100Y43' });
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(page.instance.data.step).toBe('identify');
  const form = { name: '王法人', idNumber: '110105198001010016', newAgentName: '新经办', newAgentPhone: '13600006666' };
  page.setData(form);
  tapButton(page.querySelector('#codeButton').querySelector('.btn'));
  await settle(10);
  expect(page.instance.data).toMatchObject({ step: 'start', creditCode: '91350100M000100Y43', ...form });
  expect(text(page)).toContain('操作已过期或无效，请从头开始');
  tapButton(page.querySelector('.submit')); // the first step again: a fresh ticket, then the same fields
  await settle(10);
  expect(page.instance.data).toMatchObject({ step: 'identify', ...form });
  expect(calls.filter((c) => c.key === 'POST /api/recovery/unit/start')).toHaveLength(2);
});

test('profile: what the user typed while the fresh profile was on its way stays (the cached one was shown first)', async () => {
  signIn();
  const cached = { username: 'demo_town_admin', name: '贾红', id_type: 'resident_id', id_number: '5301**********0006', email: 'old@example.cn' };
  global.wx.setStorageSync('cwt:cache:profile:6:6', { value: cached, time: Date.now() - 3600000 });
  global.wx.setStorageSync('cwt:cache-index', ['profile:6:6']);
  let release;
  install({ 'GET /api/profile': () => new Promise((r) => (release = r)) });
  const page = mount('packageAccount/pages/profile/index');
  await settle();
  expect(page.instance.data.name).toBe('贾红');
  const type = (field, value) => page.instance.onField({ currentTarget: { dataset: { field } }, detail: { value } });
  type('name', '贾红梅');
  type('idNumber', '11010519491231002X');
  release(Object.assign({}, cached, { email: 'new@example.cn' }));
  await settle(10);
  expect(page.instance.data).toMatchObject({ name: '贾红梅', idNumber: '11010519491231002X', email: 'new@example.cn', offlineText: '' });
});

test('manual review: 409 request_done (sent before, its answer lost) shows the request as submitted, not the form to send it again', async () => {
  const answers = [
    { status: 504, body: { error: { code: 'timeout', message: '服务器繁忙，请稍后重试', fields: {} } } },
    { status: 409, body: { error: { code: 'request_done', message: '该操作已经完成，但结果没能返回；请刷新查看，不要重复提交', fields: {} } } },
  ];
  const calls = install({ 'GET /api/auth/captcha': () => CAPTCHA, 'POST /api/reviews': () => answers.shift() });
  pickOnePicture();
  const page = await filledReview('username');
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(page.instance.data.done).toBe(false);
  tapButton(page.querySelector('.submit'));
  await settle(10);
  const sent = calls.filter((c) => c.key === 'POST /api/reviews');
  expect(new Set(sent.map((c) => c.header['Idempotency-Key'])).size).toBe(1);
  expect(page.instance.data.done).toBe(true);
  expect(page.querySelector('.submit')).toBeFalsy();
});

test('own sessions: "结束" on a session that has ended meanwhile (404) drops it from the list', async () => {
  signIn();
  const now = Date.now() / 1000;
  let list = [
    { id: 'aaa', current: true, ip: '10.0.0.1', user_agent: 'Mozilla/5.0 (iPhone) MicroMessenger/8.0 miniProgram', started_at: now, last_seen: now },
    { id: 'bbb', current: false, ip: '10.0.0.2', user_agent: 'Mozilla/5.0 (Windows NT 10.0)', started_at: now, last_seen: now },
  ];
  install({
    'GET /api/sessions': () => list,
    'DELETE /api/sessions/bbb': () => ({ status: 404, body: { error: { code: 'not_found', message: '没有找到这个登录会话', fields: {} } } }),
  });
  const page = mount('packageAccount/pages/sessions/index');
  await settle(10);
  list = list.slice(0, 1); // it expired, or was ended from another device
  tapButton(page.querySelector('.end'));
  await settle();
  page.querySelector('#t-dialog').instance._onConfirm();
  await settle(10);
  expect(page.querySelector('#t-toast').instance.data.message).toBe('没有找到这个登录会话');
  expect(page.instance.data.sessions.map((s) => s.id)).toEqual(['aaa']);
});

test('manual review: a picture that cannot be read (removed by WeChat, not JPG/PNG) is named under the pictures; nothing was sent, so the captcha typed stays', async () => {
  const calls = install({ 'GET /api/auth/captcha': () => CAPTCHA, 'POST /api/reviews': () => ({ status: 202, body: { message: '申请已提交。' } }) });
  global.wx.getFileSystemManager = () => ({ readFileSync: () => new Uint8Array([1, 2, 3, 4]).buffer });
  global.wx.chooseMedia = (o) => o.success({ tempFiles: [{ tempFilePath: 'wxfile://a.heic', size: 10 }] });
  const page = await filledReview('username');
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(calls.filter((c) => c.key === 'POST /api/reviews')).toHaveLength(0);
  expect(page.instance.data.errors).toEqual({ images: '只能上传 JPG 或 PNG 图片' });
  expect(page.querySelector('#captcha').instance.data).toMatchObject({ captchaId: 'cap-1', answer: 'ab12' });
  expect(calls.filter((c) => c.key === 'GET /api/auth/captcha')).toHaveLength(1);
});
