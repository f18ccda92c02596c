/** Round 3: the recovery screens refuse an ID number whose date of birth is not real before sending. */
const { mount, settle, text } = require('../support/simulate');
const { install, CAPTCHA } = require('../support/fake-server');

const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap');
const typeCaptcha = (page, value) => page.querySelector('#captcha').querySelector('.input').instance.triggerEvent('change', { value });

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
function idWithBirth(yyyymmdd) {
  const first17 = `110105${yyyymmdd}002`;
  const sum = first17.split('').reduce((acc, c, i) => acc + Number(c) * WEIGHTS[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

test('manual review: an ID number dated February 30th is refused on the phone, in words that fit it', async () => {
  const calls = install({ 'GET /api/auth/captcha': () => CAPTCHA, 'POST /api/reviews': () => ({ status: 202, body: { message: '申请已提交。' } }) });
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 7, 7]).buffer;
  global.wx.getFileSystemManager = () => ({ readFileSync: () => png });
  global.wx.chooseMedia = (o) => o.success({ tempFiles: [{ tempFilePath: 'wxfile://a.png', size: 10 }] });
  const page = mount('packageRecovery/pages/review/index', undefined, { kind: 'username' });
  await settle();
  page.querySelector('.thumb-add').dispatchEvent('tap');
  page.setData({ name: '王五', idNumber: idWithBirth('19490230'), phone: '13900000014', statement: '手机号换了' });
  typeCaptcha(page, 'ab12');
  tapButton(page.querySelector('.submit'));
  await settle(10);
  expect(calls.filter((c) => c.key === 'POST /api/reviews')).toHaveLength(0);
  expect(text(page)).toContain('出生日期');
});

test('forgot user name by unit: an ID number born next year is refused before the code is sent', async () => {
  const calls = install({ 'GET /api/auth/captcha': () => CAPTCHA });
  const page = mount('packageRecovery/pages/username/index', undefined, { mode: 'unit' });
  await settle();
  const nextYear = new Date().getFullYear() + 1;
  page.setData({ phone: '13900000014', creditCode: '91530100MA6K0000X0', name: '王五', idNumber: idWithBirth(`${nextYear}0101`) });
  typeCaptcha(page, 'ab12');
  tapButton(page.querySelector('#codeButton').querySelector('.btn'));
  await settle(10);
  expect(calls.filter((c) => c.key.startsWith('POST'))).toHaveLength(0);
  expect(text(page)).toContain('出生日期');
});
