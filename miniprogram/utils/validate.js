/** Checks done before a request leaves the phone (the server checks again and has the last word). */
const msg = require('./messages');

const CONTROL_CHARS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g; // the server refuses them; tab and newline pass
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = '10X98765432';

/** The full-width characters `which` matches (a Chinese keyboard's full-width mode) as their ASCII twins. */
function halfWidth(value, which) {
  return String(value || '').replace(which, (c) => String.fromCharCode(c.charCodeAt(0) - 0xfee0));
}

/** A number as printed or pasted, as the server reads it: full-width digits, gaps and dashes, +86. */
function plainNumber(value) {
  return halfWidth(value, /[\uff10-\uff19\uff38\uff58]/g)
    .replace(/[\s\-\u2010-\u2015\u2212]/g, '')
    .replace(/^(\+86|0086|86)(?=1\d{10}$)/, '');
}

function isPhone(value) {
  return /^1[3-9][0-9]{9}$/.test(plainNumber(value));
}

/** Characters 7-14 (YYYYMMDD) are a real calendar date from 1900 to the current year, as the server checks. */
function birthDateValid(text, now) {
  const year = Number(text.slice(6, 10));
  const month = Number(text.slice(10, 12));
  const day = Number(text.slice(12, 14));
  if (year < 1900 || year > now.getFullYear() || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(year, month, 0).getDate(); // day 0 of the next month: this month's last day
}

/** 18-character resident ID number (GB 11643): a real date of birth and a valid check character. */
function isIdNumber(value, now = new Date()) {
  const text = plainNumber(value).toUpperCase();
  if (!/^[0-9]{17}[0-9X]$/.test(text) || !birthDateValid(text, now)) return false;
  let sum = 0;
  for (let i = 0; i < 17; i += 1) sum += Number(text[i]) * ID_WEIGHTS[i];
  return ID_CHECK[sum % 11] === text[17];
}

/** An ID number as the profile sends it (the server reads it as is): gaps gone, half-width, upper case. */
function plainIdNumber(value) {
  return plainNumber(value).toUpperCase();
}

/** Another ID type's number (passport, permits): 5-20 letters and digits, as the server checks it. */
function isOtherIdNumber(value) {
  return /^[A-Z0-9]{5,20}$/.test(String(value || '').trim().toUpperCase());
}

function isCode(value) {
  return /^[0-9]{6}$/.test(String(value || ''));
}

/** The server's policy, as far as the phone can tell: 8-32 characters, three of four classes. */
function passwordProblem(password, confirm) {
  const text = String(password || '');
  if (confirm !== undefined && text !== confirm) return msg.PASSWORD_MISMATCH;
  if (text.length < 8 || text.length > 32) return msg.PASSWORD_RULE;
  const classes = [/[A-Z]/, /[a-z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(text)).length;
  return classes >= 3 ? '' : msg.PASSWORD_RULE;
}

/** Typed or pasted text as it is sent: control characters become spaces, ends trimmed. */
function cleanText(text) {
  return String(text === undefined || text === null ? '' : text)
    .replace(CONTROL_CHARS, ' ')
    .trim();
}

/** Missing required fields -> { name: message }. */
function required(values, names) {
  const errors = {};
  names.forEach((name) => {
    if (!String(values[name] === undefined || values[name] === null ? '' : values[name]).trim()) {
      errors[name] = msg.REQUIRED;
    }
  });
  return errors;
}

/** A form's number as the server reads it ("１５０", "－２．５": full-width digits, minus and point). */
function numberText(value) {
  return halfWidth(value, /[\uff0d\uff0e\uff10-\uff19]/g);
}

function isNumber(value) {
  return /^-?[0-9]+(\.[0-9]+)?$/.test(numberText(value));
}

module.exports = { isNumber, numberText, isPhone, isIdNumber, plainIdNumber, isOtherIdNumber, isCode, passwordProblem, required, cleanText };
