/**
 * Screens on a weak signal (review 6): a password change whose answer was lost, delayed
 * navigations of a page the user already left, the page stack after enrolling a PC, the chat's
 * scrolling and what it sends to setData, and line breaks in a text answer.
 */
const { mount, settle, text } = require('../support/simulate');
const { install, CAPTCHA } = require('../support/fake-server');
const { signIn, SESSION } = require('../support/fixtures');
const msg = require('../../utils/messages');

const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap');
const toastText = (page) => page.querySelector('#t-toast').instance.data.message;
const backs = () => global.__navigations.filter((n) => n.name === 'navigateBack');
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const LOST = { status: 504, body: '' };
const EXPIRED = { status: 401, body: { error: { code: 'session_invalid', message: '登录已过期，请重新登录', fields: {} } } };

afterEach(() => {
  global.__pageStack = undefined;
});

describe('a password change whose answer was lost', () => {
  /** The server changes it on the first try (ending this session), and that answer is lost. */
  function changedThenLost() {
    let done = false;
    return () => {
      if (done) return EXPIRED;
      done = true;
      return LOST;
    };
  }

  test.each([
    ['packageAccount/pages/password/index', {}],
    ['packageLogin/pages/login/password', { must_change_password: true }],
  ])('%s: the retry goes with the first key, and its 401 says the new password may be in force', async (route, extra) => {
    signIn(extra);
    const calls = install({ 'POST /api/account/password': changedThenLost(), 'GET /api/session': () => SESSION });
    const page = mount(route);
    await settle();
    page.setData({ oldPassword: 'Temp#1234', newPassword: 'Newpass#2026', confirm: 'Newpass#2026' });
    tapButton(page.querySelector('.submit'));
    await settle(10);
    tapButton(page.querySelector('.submit')); // "服务器繁忙": the user taps again
    await settle(10);
    const sent = calls.filter((c) => c.key === 'POST /api/account/password');
    expect(sent).toHaveLength(2);
    expect(sent[1].header['Idempotency-Key']).toBe(sent[0].header['Idempotency-Key']);
    expect(toastText(page)).toBe(msg.PASSWORD_MAYBE_CHANGED);
  });

  test('the login screen the 401 leads to says to use the new password, not only that the login expired', async () => {
    require('../../services/session').defaultSession().notePasswordSent();
    install({});
    const page = mount('packageLogin/pages/login/index', {}, { expired: '1' });
    await settle();
    expect(text(page.querySelector('.login-notice'))).toBe(msg.PASSWORD_MAYBE_CHANGED);
  });

  test('without a lost change, the login screen says the login expired', async () => {
    install({});
    const page = mount('packageLogin/pages/login/index', {}, { expired: '1' });
    await settle();
    expect(text(page.querySelector('.login-notice'))).toBe(msg.SESSION_EXPIRED);
  });
});

describe('a success that goes back after its toast, when the user has left the page already', () => {
  async function leaveThenWait(page) {
    page.detach(); // the user pressed Back during the toast: onUnload ran
    await wait(1300);
    expect(backs()).toHaveLength(0); // the page below stays
  }

  test('activation', async () => {
    signIn({ username: 'card_user' });
    install({ 'POST /api/profile/activate': () => ({ token: 'tok-2' }) });
    const page = mount('packageAccount/pages/activate/index');
    await settle();
    page.setData({ newPassword: 'Abcdef#123', confirm: 'Abcdef#123' });
    await page.instance.onSubmit();
    await settle();
    expect(page.instance.data.done).toBe(true);
    await leaveThenWait(page);
  });

  test('password change from "我的"', async () => {
    signIn();
    install({ 'POST /api/account/password': () => ({ token: 'tok-2' }), 'GET /api/session': () => SESSION });
    const page = mount('packageAccount/pages/password/index');
    await settle();
    page.setData({ oldPassword: 'Temp#1234', newPassword: 'Newpass#2026', confirm: 'Newpass#2026' });
    await page.instance.onSubmit();
    await settle();
    expect(toastText(page)).toBe('密码已修改');
    await leaveThenWait(page);
  });

  test('bound phone change', async () => {
    signIn();
    install({
      'GET /api/auth/captcha': () => CAPTCHA,
      'POST /api/profile/phone/send-code': () => ({ phone: '139****0021', ticket: 'pt-1', resend_after: 60 }),
      'POST /api/profile/phone/confirm': () => ({ name: '贾红', phone: '139****0021' }),
    });
    const page = mount('packageAccount/pages/phone/index');
    await settle();
    page.setData({ password: 'Jiuma#2025', newPhone: '13900000021' });
    await page.instance.onSendCode();
    await settle();
    page.setData({ code: '123456' });
    await page.instance.onConfirm();
    await settle();
    expect(toastText(page)).toBe('已更换为 139****0021');
    await leaveThenWait(page);
  });

  test('while the page stays, it still goes back after the toast', async () => {
    signIn();
    install({ 'POST /api/account/password': () => ({ token: 'tok-2' }), 'GET /api/session': () => SESSION });
    const page = mount('packageAccount/pages/password/index');
    await settle();
    page.setData({ oldPassword: 'Temp#1234', newPassword: 'Newpass#2026', confirm: 'Newpass#2026' });
    await page.instance.onSubmit();
    await wait(1300);
    expect(backs()).toHaveLength(1);
  });
});

describe('enrolment done: "查看已登记的电脑"', () => {
  const token = 'A'.repeat(22);
  const DEVICE = { id: 3, name: 'DESKTOP-WJW01', hostname: 'DESKTOP-WJW01', unit: { id: 4, name: '白沙镇' }, status_label: '已登记', enrolled_at: '2026-11-22T20:40:00+00:00' };

  async function done(below) {
    signIn();
    install({
      [`GET /api/devices/enrolments/${token}`]: () => ({ hostname: 'DESKTOP-WJW01', fingerprint: '3F2A-9C41', expires_at: '2030-01-01T00:00:00+00:00' }),
      [`POST /api/devices/enrolments/${token}/approve`]: () => DEVICE,
    });
    const page = mount('packageCard/pages/enrol/index', {}, { token });
    global.__pageStack = below.map((route) => ({ route })).concat([{ route: 'packageCard/pages/enrol/index' }]);
    await settle(10);
    await page.instance.onApprove();
    await settle(5);
    expect(page.instance.data.view).toBe('done');
    page.querySelector('.to-devices').querySelector('.t-button').dispatchEvent('tap');
    await settle(2);
    return global.__navigations.map((n) => [n.name, n.url]);
  }

  test('goes back to the devices page it came from, not another one on top', async () => {
    expect(await done(['pages/chat/index', 'packageAccount/pages/index/index', 'packageCard/pages/devices/index'])).toEqual([['navigateBack', undefined]]);
  });

  test('opened from a scan in the chat, it replaces itself with the devices page', async () => {
    expect(await done(['pages/chat/index'])).toEqual([['redirectTo', '/packageCard/pages/devices/index']]);
  });
});

describe('the chat', () => {
  const reply = (t) => ({ blocks: [{ type: 'text', text: t }], suggestions: [] });

  async function openChat(routes) {
    signIn();
    const calls = install(Object.assign({ 'GET /api/session': () => SESSION }, routes));
    const page = mount('pages/chat/index');
    await settle(10);
    const list = page.instance.selectComponent('#chatList');
    const scrolled = jest.spyOn(list, 'scrollToBottom');
    return { page, calls, scrolled };
  }

  test('a network flap with nothing new does not scroll the list; a new message does', async () => {
    const { page, scrolled } = await openChat({ 'POST /api/chat': () => reply('好的') });
    const network = require('../../utils/network').defaultNetwork();
    network.set(false);
    await settle(5);
    network.set(true);
    await settle(5);
    expect(scrolled).not.toHaveBeenCalled();
    expect(page.instance.data.online).toBe(true);
    page.instance.conversation.sendText('帮助');
    await settle(10);
    expect(scrolled).toHaveBeenCalled();
  });

  test('a cancelled confirm of a form does not scroll the list away from it', async () => {
    const confirmed = {
      blocks: [{ type: 'form', title: '注销账号', fields: [{ name: 'reason', label: '原因' }], submit: { label: '注销', intent: 'account.close', confirm: '确定注销？' } }],
    };
    const { page, scrolled } = await openChat({ 'POST /api/chat': () => confirmed });
    page.instance.conversation.sendText('注销');
    await settle(10);
    scrolled.mockClear();
    const form = () => page.querySelector('.answer-blocks').querySelector('.block-form');
    form().querySelector('.input').instance.triggerEvent('change', { value: '调离' });
    tapButton(form().querySelector('.submit'));
    await settle();
    page.querySelector('#t-dialog').instance._onCancel();
    await settle(10);
    expect(form().instance.data.sent).toBe(false); // open to be sent again
    expect(scrolled).not.toHaveBeenCalled();
  });

  test('a send hands setData only its own messages, by path, not the whole history', async () => {
    const { page } = await openChat({ 'POST /api/chat': () => reply('好的') });
    for (let i = 0; i < 3; i += 1) {
      page.instance.conversation.sendText(`问题${i}`);
      await settle(10);
    }
    const setData = jest.spyOn(page.instance, 'setData');
    page.instance.conversation.sendText('问题3');
    await settle(10);
    const keys = setData.mock.calls.map(([data]) => Object.keys(data).filter((k) => k.startsWith('messages')));
    expect(keys.flat().every((k) => /^messages\[(6|7)\]$/.test(k))).toBe(true);
    expect(keys.flat()).toEqual(expect.arrayContaining(['messages[6]', 'messages[7]']));
    expect(page.instance.data.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant', 'user', 'assistant', 'user', 'assistant']);
    expect(page.instance.data.messages[6].content).toEqual([{ type: 'text', data: '问题3' }]);
  });
});

test('the offline banner says what happens: sent when the network is back, to be resent by hand after the app closed', async () => {
  signIn();
  const listeners = [];
  global.wx.onNetworkStatusChange = (fn) => listeners.push(fn);
  const calls = install({ 'GET /api/session': () => SESSION, 'POST /api/chat': () => ({ blocks: [{ type: 'text', text: '好的' }], suggestions: [] }) });
  const page = mount('pages/chat/index');
  await settle();
  listeners.forEach((fn) => fn({ isConnected: false, networkType: 'none' }));
  page.instance.conversation.sendText('王家湾村');
  await settle(10);
  expect(text(page.querySelector('.net-banner'))).toBe(msg.OFFLINE_BANNER);
  expect(msg.OFFLINE_BANNER).toContain('恢复后自动发送');
  expect(msg.OFFLINE_BANNER).toContain('点击重发');
  page.detach(); // the app is closed before the network returns

  const again = mount('pages/chat/index'); // opened again, online
  await settle(10);
  expect(calls.filter((c) => c.key === 'POST /api/chat')).toHaveLength(0); // not sent by itself...
  expect(again.instance.data.messages[0].statusText).toContain('点击重发'); // ...but offered, as the banner said
});

test('a multi-line text answer keeps its line breaks (the help list)', async () => {
  const blocks = require('../../services/chat/blocks');
  const help = '可以这样问我：\n· 输入单位名称\n· “汇总”看汇总';
  const comp = mount('components/chat-blocks/index', { blocks: blocks.reply({ blocks: [{ type: 'text', text: help }] }).blocks });
  await settle();
  const content = comp.querySelector('.content');
  expect(content.instance.data.textInfo).toBe(help);
  const pre = content.querySelector('.t-chat-content__assistant ._pre');
  expect(window.getComputedStyle(pre.dom).whiteSpace).toBe('pre-wrap');
});
