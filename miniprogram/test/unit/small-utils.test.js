const { createFakeWx } = require('../support/fake-wx');
const validate = require('../../utils/validate');
const format = require('../../utils/format');
const ids = require('../../utils/ids');
const multipart = require('../../packageRecovery/utils/multipart');
const images = require('../../packageRecovery/utils/images');
const { createNetwork } = require('../../utils/network');
const { createEmitter } = require('../../utils/emitter');
const { fromResponse, fromFailure } = require('../../utils/errors');

test('validate: phones, ID numbers with check character, codes, the password policy', () => {
  expect(validate.isPhone('13900000001')).toBe(true);
  expect(validate.isPhone('12900000001')).toBe(false);
  // as printed or pasted: the server reads these as the number they are (backend.core.validation)
  ['139 0000 0001', ' 13900000001 ', '139-0000-0001', '+86 139 0000 0001', '１３９００００００01'].forEach((typed) =>
    expect(validate.isPhone(typed)).toBe(true),
  );
  expect(validate.isIdNumber('110105 19491231 002X')).toBe(true);
  expect(validate.isIdNumber('１１０１０５１９４９１２３１００２Ｘ')).toBe(true);
  expect(validate.isIdNumber('11010519491231002X')).toBe(true);
  expect(validate.isIdNumber('11010519491231002x')).toBe(true);
  expect(validate.isIdNumber('110105194912310021')).toBe(false);
  expect(validate.isCode('123456')).toBe(true);
  expect(validate.isCode('12345a')).toBe(false);
  expect(validate.passwordProblem('Abcdef12')).toBe('');
  expect(validate.passwordProblem('abcdefgh')).toMatch(/至少三种/);
  expect(validate.passwordProblem('Ab1!')).toMatch(/8-32/);
  expect(validate.passwordProblem('Abcdef12', 'Abcdef13')).toMatch(/不一致/);
  expect(validate.required({ a: ' ', b: 'x' }, ['a', 'b', 'c'])).toEqual({ a: '请填写', c: '请填写' });
});

test('format: times, the offline label, numbers', () => {
  const now = new Date(2026, 10, 22, 21, 0).getTime();
  expect(format.formatTime(new Date(2026, 10, 22, 20, 35).getTime(), now)).toBe('11-22 20:35');
  expect(format.formatTime(new Date(2025, 0, 2, 3, 4).getTime(), now)).toBe('2025-01-02 03:04');
  expect(format.offlineLabel(new Date(2026, 10, 22, 8, 5).getTime(), now)).toBe('离线 · 上次结果 11-22 08:05');
  expect(format.formatNumber(-1234.5)).toBe('-1,234.5');
  expect(format.formatNumber(NaN)).toBe('');
});

test('ids: idempotency keys are UUID-v4 shaped and differ', () => {
  const a = ids.idempotencyKey();
  expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  expect(ids.idempotencyKey()).not.toBe(a);
  expect(ids.localId(1000, () => 0)).toBe('mrs000000');
});

test('multipart: fields (UTF-8) and files, byte-exact', () => {
  const built = multipart.build(
    { name: '王五', kind: 'password', skip: undefined },
    [{ field: 'images', filename: 'image1.png', contentType: 'image/png', data: new Uint8Array([137, 80, 78, 71]) }],
    'XYZ'
  );
  expect(built.contentType).toBe('multipart/form-data; boundary=XYZ');
  const text = Buffer.from(built.body).toString('latin1');
  expect(Buffer.from(built.body).toString('utf8')).toContain('name="name"\r\n\r\n王五\r\n');
  expect(text).toContain('--XYZ\r\nContent-Disposition: form-data; name="images"; filename="image1.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n--XYZ--\r\n');
  expect(text).not.toContain('skip');
  expect(Array.from(multipart.utf8('😀'))).toEqual([0xf0, 0x9f, 0x98, 0x80]);
});

test('images: 1-3 files, 4 MB each, JPEG or PNG by their first bytes', () => {
  expect(images.checkChosen([])).toMatch(/1 到 3/);
  expect(images.checkChosen([{ size: 1 }, { size: 1 }, { size: 1 }, { size: 1 }])).toMatch(/1 到 3/);
  expect(images.checkChosen([{ size: 4 * 1024 * 1024 + 1 }])).toMatch(/4 MB/);
  expect(images.checkChosen([{ size: 10 }])).toBe('');
  const files = { '/a.jpg': new Uint8Array([0xff, 0xd8, 0xff, 0xe0]).buffer, '/b.gif': new Uint8Array([0x47, 0x49, 0x46]).buffer };
  const fs = { readFileSync: (p) => files[p] };
  expect(images.readForUpload([{ path: '/a.jpg', size: 4 }], fs)[0]).toMatchObject({ filename: 'image1.jpg', contentType: 'image/jpeg' });
  expect(() => images.readForUpload([{ path: '/b.gif', size: 3 }], fs)).toThrow(/JPG 或 PNG/);
});

test('images: a chosen file that cannot be read any more is explained in Chinese, not by the file system\'s English', () => {
  const gone = { readFileSync: () => { throw new Error('readFileSync:fail no such file or directory, open wxfile://tmp_a.jpg'); } };
  expect(() => images.readForUpload([{ path: 'wxfile://tmp_a.jpg', size: 4 }], gone)).toThrow('图片读取失败，请重新选择');
});

test('network: follows wx events; waitOnline resolves on return or after its timeout', async () => {
  jest.useFakeTimers();
  const wx = createFakeWx();
  const network = createNetwork(wx);
  network.start();
  const changes = [];
  network.onChange((v) => changes.push(v));
  wx.setNetwork('none');
  expect(network.isOnline()).toBe(false);
  const back = network.waitOnline(1000);
  wx.setNetwork('wifi');
  await expect(back).resolves.toBe(true);
  wx.setNetwork('none');
  const never = network.waitOnline(1000);
  jest.advanceTimersByTime(1000);
  await expect(never).resolves.toBe(false);
  expect(changes).toEqual([false, true, false]);
  jest.useRealTimers();
});

test('emitter and error mapping', () => {
  const e = createEmitter();
  const got = [];
  const off = e.on('x', (v) => got.push(v));
  e.emit('x', 1);
  off();
  e.emit('x', 2);
  expect(got).toEqual([1]);
  expect(fromResponse({ statusCode: 502, data: 'Bad Gateway' })).toMatchObject({ code: 'server', retryable: true });
  expect(fromResponse({ statusCode: 401, data: '' }).message).toMatch(/登录已过期/);
  expect(fromFailure({ errMsg: 'request:fail timeout' })).toMatchObject({ code: 'timeout' });
  expect(fromFailure({ errMsg: 'request:fail ssl' })).toMatchObject({ code: 'network' });
});
