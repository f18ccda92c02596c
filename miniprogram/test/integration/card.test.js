/**
 * Office PCs, pairing and card login (issue 6) through the mini-program's own services against the
 * real backend (test/support/backend.js). The test plays the PC itself (test/support/office-pc.js):
 * an Ed25519 device key from Node's crypto and the signed-request headers of docs/card-protocol.md,
 * and, for one end-to-end card login, a software card issued by the demo issuer CA.
 *
 * Covered: enrolment by scanning the PC's QR (preview, fingerprint, unit in scope, approve, the
 * PC's own record, the list, revocation), pairing from the phone (scan with and without a session,
 * confirm, cancel, the phone's long-poll follower until a final state, the PC's long-poll seeing
 * the phone), a card login claimed as a session and the activation of the account it created,
 * a card refused for binding (failed, with the server's message), and the refusals: a used QR, a
 * bind scan without a session, a scan from outside the PC's branch of the unit tree.
 */
const harness = require('../support/app');
const backend = require('../support/backend');
const { createPc, demoCard } = require('../support/office-pc');
const { parseScan } = require('../../utils/scan');

jest.setTimeout(60000); // each test talks to a real server; starting it has its own limit below

let server;

beforeAll(async () => {
  server = await backend.start();
}, 180000);

afterAll(async () => {
  if (server) await server.stop();
});

async function loggedIn(username) {
  const app = harness.freshApp(server);
  await harness.login(server, app.s, username, server.password(username));
  return app;
}

/** Enrol a PC the way an admin does it on the phone: scan, look, approve into `unitName`. */
async function enrolled(admin, hostname, unitName, name) {
  const pc = createPc(server, hostname);
  const started = await pc.enrol();
  expect(started.status).toBe(201);
  const scanned = parseScan(started.body.qr);
  expect(scanned.kind).toBe('enrol');
  const { devices } = admin.card();
  const unit = (await devices.units(unitName)).items.find((u) => u.name === unitName);
  const device = await devices.approve(scanned.token, { name, unitId: unit.id });
  return { pc, device, token: scanned.token, unit };
}

/** The pairing page's follower, with real timers; `finished` resolves with the final state (or the ending error). */
function follow(app, scanned) {
  const { createFollower } = require('../../packageCard/services/follower');
  const seen = [];
  let end;
  const finished = new Promise((resolve) => (end = resolve));
  const follower = createFollower({
    poll: (since, wait) => app.card().pairing.events(scanned.pairing_id, scanned.phone_key, since, wait),
    state: scanned,
    onState: (state) => {
      seen.push(state.state);
      if (['done', 'expired', 'cancelled', 'failed'].includes(state.state)) end(state);
    },
    onError: end,
  });
  follower.start();
  return { follower, seen, finished };
}

/** The PC starts a pairing; the phone reads its QR. */
async function pairing(pc, action) {
  const created = await pc.pair(action);
  expect(created.status).toBe(201);
  expect(created.body).toMatchObject({ state: 'created', version: 1, action, expires_in: 120 });
  const scanned = parseScan(created.body.qr);
  expect(scanned.kind).toBe('pair');
  return { created: created.body, token: scanned.token };
}

describe('enrolling office PCs', () => {
  test('an admin scans the PC\'s QR, compares the fingerprint, names it and puts it in a unit in scope', async () => {
    const admin = await loggedIn('demo_town_admin');
    const pc = createPc(server, 'DESKTOP-BSZ01');
    const started = await pc.enrol();
    expect(started.status).toBe(201);
    expect(started.body.fingerprint).toBe(pc.fingerprint); // what the PC shows
    expect(await pc.self()).toMatchObject({ status: 401, body: { error: { code: 'device_unknown' } } });

    const { devices } = admin.card();
    const token = parseScan(started.body.qr).token;
    const preview = await devices.enrolment(token);
    expect(preview).toMatchObject({ hostname: 'DESKTOP-BSZ01', fingerprint: pc.fingerprint }); // what the phone shows
    const units = (await devices.units('白沙')).items;
    const town = units.find((u) => u.name === '白沙镇');
    const device = await devices.approve(token, { name: '白沙镇政府办公室', unitId: town.id });
    expect(device).toMatchObject({
      name: '白沙镇政府办公室',
      hostname: 'DESKTOP-BSZ01',
      unit: { id: town.id, name: '白沙镇' },
      status: 'active',
      fingerprint: pc.fingerprint,
      enrolled_by: { name: expect.any(String) },
    });
    expect(await pc.self()).toMatchObject({ status: 200, body: { name: '白沙镇政府办公室', unit: { name: '白沙镇' } } });

    const again = await devices.approve(token, { name: 'x', unitId: town.id }).catch((e) => e);
    expect(again).toMatchObject({ status: 410, code: 'enrolment_invalid' });
    expect(again.message).toMatch(/登记二维码已过期或已使用/);
    const listed = await devices.list();
    expect(listed.items.map((d) => d.id)).toContain(device.id);
  });

  test('a unit outside the admin\'s scope is refused; a clerk cannot enrol', async () => {
    const village = await loggedIn('demo_village_admin');
    const town = await loggedIn('demo_town_admin');
    const townId = (await town.card().devices.units('白沙镇')).items.find((u) => u.name === '白沙镇').id;
    const pc = createPc(server, 'DESKTOP-WJW02');
    const token = parseScan((await pc.enrol()).body.qr).token;
    const outside = await village.card().devices.approve(token, { name: '镇政府', unitId: townId }).catch((e) => e);
    expect(outside.status).toBe(404); // outside the scope is "not found", so ids cannot be probed
    const clerk = await loggedIn('demo_town_clerk');
    expect(await clerk.card().devices.enrolment(token).catch((e) => e.status)).toBe(403);
  });

  test('a revoked PC is refused on every signed request', async () => {
    const admin = await loggedIn('demo_town_admin');
    const { pc, device } = await enrolled(admin, 'DESKTOP-OLD', '白沙镇', '旧电脑');
    expect((await pc.pair('login')).status).toBe(201);
    const revoked = await admin.card().devices.revoke(device.id);
    expect(revoked).toMatchObject({ status: 'revoked', status_label: '已撤销' });
    expect(await pc.self()).toMatchObject({ status: 403, body: { error: { code: 'device_revoked' } } });
    expect((await pc.pair('login')).status).toBe(403);
    const again = await admin.card().devices.revoke(device.id).catch((e) => e);
    expect(again.status).toBe(409);
  });
});

describe('pairing from the phone', () => {
  let pc;

  beforeAll(async () => {
    const admin = await loggedIn('demo_town_admin');
    ({ pc } = await enrolled(admin, 'DESKTOP-BSZ-CARD', '白沙镇', '白沙镇便民服务中心'));
  });

  test('card login end to end: an anonymous scan, confirm, the card at the PC, the phone claims the session and activates the account', async () => {
    const { created, token } = await pairing(pc, 'login');
    const phone = harness.freshApp(server); // nobody logged in on this phone
    const { pairing: phonePairing } = phone.card();
    const scanned = await phonePairing.scan(token);
    expect(scanned).toMatchObject({
      pairing_id: created.pairing_id,
      state: 'scanned',
      action: 'login',
      action_label: '卡登录',
      user_code: created.user_code, // the same code as on the PC's screen
      device: { name: '白沙镇便民服务中心', unit: { name: '白沙镇' } },
      phone_key: expect.any(String),
    });
    const followed = follow(phone, scanned);
    expect(await pc.events(created.pairing_id, 1, 5)).toMatchObject({ status: 200, body: { state: 'scanned', version: 2 } });

    const confirmed = await phonePairing.confirm(scanned.pairing_id, scanned.phone_key);
    expect(confirmed).toMatchObject({ state: 'confirmed', version: 3, confirmed_by: null });
    followed.follower.accept(confirmed);
    const seenByPc = await pc.events(created.pairing_id, 2, 5);
    expect(seenByPc.body).toMatchObject({ state: 'confirmed', version: 3 });

    const challenge = await pc.challenge(created.pairing_id);
    expect(challenge).toMatchObject({ status: 200, body: { slot: '9a' } });
    const context = JSON.parse(Buffer.from(challenge.body.to_sign, 'base64url').toString('utf8'));
    expect(context).toMatchObject({ action: 'login', device: pc.deviceId, pairing: created.pairing_id, service: 'cunwu-tong', v: 1 });
    const card = demoCard(server, 'legal_rep');
    const answered = await pc.card(created.pairing_id, card.answer(challenge.body)); // the phone's poll is waiting now
    expect(answered).toMatchObject({ status: 200, body: { state: 'done' } });

    const final = await followed.finished;
    expect(final).toMatchObject({ state: 'done', version: 4, result: { message: expect.any(String) } });
    expect(followed.seen).toEqual(['confirmed', 'done']);
    const username = `${card.number}_ADMIN`;
    expect(final.result.created).toContain(username);

    expect(await phonePairing.claim(scanned.pairing_id, scanned.phone_key)).toBe('/pages/chat/index');
    expect(phone.s.session.info()).toMatchObject({ username });
    const twice = await phonePairing.claim(scanned.pairing_id, scanned.phone_key).catch((e) => e);
    expect(twice.status).toBe(410);

    const { cardSection } = require('../../packageAccount/services/card');
    const profile = (await phone.account().profile.load()).value;
    expect(cardSection(profile)).toMatchObject({ card: { kindLabel: '法人卡' }, needsActivation: true });
    expect(profile.card.card_number).toMatch(/^\d+\*{4}\d{4}$/); // masked
    expect(profile.card.card_number.slice(-4)).toBe(card.number.slice(-4));
    expect(profile.card.card_number).not.toContain(card.number);
    await phone.account().profile.activate('Card#Admin2026');
    expect((await phone.account().profile.load()).value.needs_activation).toBe(false);
    const byPassword = harness.freshApp(server);
    expect((await harness.login(server, byPassword.s, username, 'Card#Admin2026')).info.username).toBe(username);
  });

  test('binding: no session is refused; with one, confirm then cancel ends it on both sides and the QR is spent', async () => {
    const { created, token } = await pairing(pc, 'bind');
    const anonymous = harness.freshApp(server);
    const refused = await anonymous.card().pairing.scan(token).catch((e) => e);
    expect(refused).toMatchObject({ status: 401, code: 'login_required' });
    expect(refused.message).toMatch(/请先登录/);

    const admin = await loggedIn('demo_town_admin');
    const { pairing: phonePairing } = admin.card();
    const scanned = await phonePairing.scan(token); // the same QR: a refused scan did not use it
    expect(scanned).toMatchObject({ state: 'scanned', action_label: '绑定IC卡' });
    const followed = follow(admin, scanned);
    const confirmed = await phonePairing.confirm(scanned.pairing_id, scanned.phone_key);
    expect(confirmed.confirmed_by).toMatchObject({ username: 'demo_town_admin' }); // the PC shows who confirmed
    const cancelled = await phonePairing.cancel(scanned.pairing_id, scanned.phone_key);
    expect(cancelled.state).toBe('cancelled');
    expect((await followed.finished).state).toBe('cancelled');
    expect((await pc.events(created.pairing_id, 3, 5)).body).toMatchObject({ state: 'cancelled' });
    expect(followed.follower.running()).toBe(false);

    const reused = await phonePairing.scan(token).catch((e) => e);
    expect(reused).toMatchObject({ status: 410, code: 'pairing_invalid' });
  });

  test('a card that is not the account holder\'s: the pairing fails and the phone sees the server\'s message', async () => {
    const { created, token } = await pairing(pc, 'bind');
    const admin = await loggedIn('demo_town_admin');
    const { pairing: phonePairing } = admin.card();
    const scanned = await phonePairing.scan(token);
    const followed = follow(admin, scanned);
    followed.follower.accept(await phonePairing.confirm(scanned.pairing_id, scanned.phone_key));
    const challenge = (await pc.challenge(created.pairing_id)).body;
    const refused = await pc.card(created.pairing_id, demoCard(server, 'operator').answer(challenge));
    expect(refused.status).toBeGreaterThanOrEqual(400);
    const final = await followed.finished;
    expect(final).toMatchObject({ state: 'failed', error: { code: refused.body.error.code } });
    expect(final.error.message).toMatch(/[\u4e00-\u9fa5]/);
    const { pairingView } = require('../../packageCard/services/pairing');
    expect(pairingView(final)).toMatchObject({ view: 'failed', message: final.error.message });
  });

  test('a scan from outside the PC\'s branch of the unit tree is refused', async () => {
    const village = await loggedIn('demo_village_admin');
    const { pc: villagePc } = await enrolled(village, 'DESKTOP-WJW03', '王家湾村', '王家湾村委会');
    const { token } = await pairing(villagePc, 'login');
    const agent = await loggedIn('demo_agent'); // 李家坪村 and 张家冲村: other villages of the town
    const lijiaping = agent.s.session.info().units.find((u) => u.unit_name === '李家坪村');
    expect(await agent.s.auth.chooseUnit(lijiaping.id)).toBe('/pages/chat/index');
    const refused = await agent.card().pairing.scan(token).catch((e) => e);
    expect(refused).toMatchObject({ status: 403, code: 'pairing_outside_scope' });
    expect(refused.message).toMatch(/不属于您所在单位的范围/);
  });
});
