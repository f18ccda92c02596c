/** What a scanned code means: the PC's enrol and pair codes, everything else as text. */
const { parseScan, pageFor, scanCode, MAX_LENGTH } = require('../../utils/scan');

const TOKEN = 'q3VdJ0bX9c_TlK2m-8wZyA'; // 16 bytes of base64url, what the server makes at the least

describe('parseScan', () => {
  test.each([
    [`cwt://enrol/${TOKEN}`, { kind: 'enrol', token: TOKEN }],
    [`cwt://pair/${TOKEN}`, { kind: 'pair', token: TOKEN }],
    [`  cwt://pair/${TOKEN}\n`, { kind: 'pair', token: TOKEN }], // whitespace around is the scanner's
    [`CWT://PAIR/${TOKEN}`, { kind: 'pair', token: TOKEN }], // a scheme is case-insensitive; the token is not touched
    [`cwt://pair/${TOKEN}/`, { kind: 'pair', token: TOKEN }],
    [`cwt://enrol/${'A'.repeat(128)}`, { kind: 'enrol', token: 'A'.repeat(128) }],
  ])('%j is ours', (raw, expected) => {
    expect(parseScan(raw)).toEqual(expected);
  });

  test.each([
    ['cwt://pair/'], // empty token
    ['cwt://pair'],
    ['cwt://enrol//'],
    ['cwt:pair/' + TOKEN], // no //
    ['cwt://login/' + TOKEN], // unknown kind
    ['cwt://pair/short'], // too short to be a server token
    ['cwt://pair/' + 'A'.repeat(129)], // longer than any token
    ['cwt://pair/' + TOKEN + '?x=1'],
    ['cwt://pair/' + TOKEN + '#frag'],
    ['cwt://pair/' + TOKEN.slice(0, 10) + ' ' + TOKEN.slice(10)], // whitespace inside
    ['cwt://pair/' + TOKEN + '+/='], // base64, not base64url
    ['cwt://pair/令牌令牌令牌令牌令牌令牌令牌令牌'],
    ['cwt://pair/' + TOKEN + '/extra'],
    ['cwt://pair/' + 'A'.repeat(MAX_LENGTH)], // over-long
  ])('%j says cwt:// but is not a usable code', (raw) => {
    const out = parseScan(raw);
    expect(out.kind).toBe('invalid');
    expect(out.message).toMatch(/二维码/);
  });

  test.each([
    ['cwt-house:42', 'cwt-house:42'],
    ['https://example.com/cwt://pair/' + TOKEN, 'https://example.com/cwt://pair/' + TOKEN], // not at the start
    ['  430102199001011234 ', '430102199001011234'],
    ['x'.repeat(1000), 'x'.repeat(1000)], // long other text stays the chat's business
  ])('%j is other text, trimmed', (raw, text) => {
    expect(parseScan(raw)).toEqual({ kind: 'text', text });
  });

  test.each([[''], ['   \n\t'], [null], [undefined], [42], [{}]])('%j is nothing', (raw) => {
    expect(parseScan(raw)).toEqual({ kind: 'empty', message: '没有识别到二维码内容' });
  });
});

test('pageFor: the page of an enrol or pair code; nothing for other kinds', () => {
  expect(pageFor({ kind: 'enrol', token: TOKEN })).toBe(`/packageCard/pages/enrol/index?token=${TOKEN}`);
  expect(pageFor({ kind: 'pair', token: TOKEN })).toBe(`/packageCard/pages/pair/index?token=${TOKEN}`);
  expect(pageFor({ kind: 'text', text: 'x' })).toBe('');
  expect(pageFor({ kind: 'invalid' })).toBe('');
  expect(pageFor(null)).toBe('');
});

test('scanCode: the text scanned, or null when the user backs out', async () => {
  const seen = [];
  const ok = { scanCode: (o) => (seen.push(o.scanType), o.success({ result: ' cwt://pair/x ' })) };
  expect(await scanCode(ok)).toBe(' cwt://pair/x ');
  expect(seen).toEqual([['qrCode', 'barCode']]);
  expect(await scanCode({ scanCode: (o) => o.fail({ errMsg: 'scanCode:fail cancel' }) })).toBeNull();
  expect(await scanCode({ scanCode: (o) => o.success({}) })).toBe('');
});
