/**
 * The profile page checks the ID number on the phone, as the server will (backend/profile/actions.py
 * _check_profile): a resident ID (GB 11643) or, for the other ID types, 5-20 letters and digits.
 * A bad one shows its message under the field at once and nothing is sent.
 */
const { mount, settle, text } = require('../support/simulate');
const { install } = require('../support/fake-server');
const { signIn } = require('../support/fixtures');

const PROFILE = { username: 'demo_town_admin', name: '贾红', id_type: 'resident_id', id_number: '5301**********0006', email: '' };
const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap');

function typeInto(page, field, value) {
  page.instance.onField({ currentTarget: { dataset: { field } }, detail: { value } });
}

async function profilePage() {
  signIn();
  const calls = install({ 'GET /api/profile': () => PROFILE, 'PATCH /api/profile': (body) => Object.assign({}, PROFILE, body) });
  const page = mount('packageAccount/pages/profile/index');
  await settle(10);
  return { page, calls };
}

const patches = (calls) => calls.filter((c) => c.key === 'PATCH /api/profile');

test.each([
  ['a wrong check character', '110105194912310021'],
  ['a date of birth that is not real', '110105194902300028'],
  ['too short', '11010519491231'],
])('profile: a resident ID number with %s shows the message at once and is not sent', async (_, number) => {
  const { page, calls } = await profilePage();
  typeInto(page, 'idNumber', number);
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(text(page.querySelector('.form-error'))).toBe('身份证号码不正确（应为 18 位，出生日期有效，且校验位正确）');
  expect(patches(calls)).toEqual([]);
  expect(page.instance.data.busy).toBe(false);

  typeInto(page, 'idNumber', '11010519491231002X'); // typing again clears it
  expect(page.querySelector('.form-error')).toBeFalsy();
});

test('profile: a resident ID number typed with gaps or full-width digits is sent as the server reads it', async () => {
  const { page, calls } = await profilePage();
  typeInto(page, 'idNumber', ' １１０１０５ 1949-1231 002x ');
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(page.querySelector('.form-error')).toBeFalsy();
  expect(patches(calls).map((c) => c.data)).toEqual([{ id_number: '11010519491231002X' }]);
});

test('profile: another ID type takes 5-20 letters and digits; other characters are refused on the phone', async () => {
  const { page, calls } = await profilePage();
  page.instance.onIdType({ detail: { value: '1' } }); // 护照
  typeInto(page, 'idNumber', 'E12-345');
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(text(page.querySelector('.form-error'))).toBe('证件号码格式不正确（5-20 位字母或数字）');
  expect(patches(calls)).toEqual([]);

  typeInto(page, 'idNumber', 'e12345678');
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(patches(calls).map((c) => c.data)).toEqual([{ id_type: 'passport', id_number: 'E12345678' }]);
});

test('profile: a resident ID number is checked against the type chosen, not the one saved', async () => {
  const { page, calls } = await profilePage();
  page.instance.onIdType({ detail: { value: '1' } }); // 护照: a resident ID's shape is no passport number rule
  typeInto(page, 'idNumber', '110105194912310021');
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(page.querySelector('.form-error')).toBeFalsy();
  expect(patches(calls).map((c) => c.data)).toEqual([{ id_type: 'passport', id_number: '110105194912310021' }]);
});
