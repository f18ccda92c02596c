/** Round 3: the phone refuses an ID number the server refuses (its date of birth must be real). */
const validate = require('../../utils/validate');
const msg = require('../../utils/messages');

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/** An ID number with the given date of birth (YYYYMMDD) and a correct check character. */
function idWithBirth(yyyymmdd) {
  const first17 = `110105${yyyymmdd}002`;
  const sum = first17.split('').reduce((acc, c, i) => acc + Number(c) * WEIGHTS[i], 0);
  return first17 + '10X98765432'[sum % 11];
}

const NOW = new Date(2026, 4, 20); // 2026-05-20

test.each([
  ['19490230', 'February 30th'],
  ['19491301', 'month 13'],
  ['19490100', 'day 0'],
  ['19000229', '1900 is not a leap year'],
  ['18991231', 'before 1900'],
  ['20270101', 'after the current year'],
  ['00000000', 'no date at all'],
])('isIdNumber refuses a correct check character on a date of birth that is not real: %s (%s)', (birth) => {
  expect(validate.isIdNumber(idWithBirth(birth), NOW)).toBe(false);
});

test.each(['19000101', '20000229', '19491231', '20260101', '20261231'])(
  'isIdNumber accepts a real date of birth from 1900 to the current year: %s',
  (birth) => {
    expect(validate.isIdNumber(idWithBirth(birth), NOW)).toBe(true);
  },
);

test('isIdNumber reads the current year from the clock by default', () => {
  const nextYear = new Date().getFullYear() + 1;
  expect(validate.isIdNumber(idWithBirth(`${nextYear}0101`))).toBe(false);
  expect(validate.isIdNumber(idWithBirth(`${nextYear - 1}0101`))).toBe(true);
  expect(validate.isIdNumber('110105 19491231 002X')).toBe(true);
});

test('the message for a wrong ID number names both causes: the date of birth and the check character', () => {
  expect(msg.BAD_ID_NUMBER).not.toMatch(/格式/);
  expect(msg.BAD_ID_NUMBER).toMatch(/出生日期/);
  expect(msg.BAD_ID_NUMBER).toMatch(/校验位/);
});
