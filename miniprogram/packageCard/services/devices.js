/** Office PCs with the card service (C2): enrolment by scanning, the list in scope, revocation. */
const texts = require('./texts');

const paths = {
  list: '/api/devices',
  revoke: (id) => `/api/devices/${encodeURIComponent(id)}/revoke`,
  enrolment: (token) => `/api/devices/enrolments/${encodeURIComponent(token)}`,
  approve: (token) => `/api/devices/enrolments/${encodeURIComponent(token)}/approve`,
  units: '/api/units',
};

const NAME_MAX = 50;

/** The enrolment form's own checks (the server checks again): { name?, unit? } -> messages. */
function enrolProblems({ name, unitId }) {
  const errors = {};
  const text = String(name || '').trim();
  if (!text) errors.name = texts.ENROL_NAME_REQUIRED;
  else if (text.length > NAME_MAX) errors.name = texts.ENROL_NAME_TOO_LONG;
  if (!unitId) errors.unit_id = texts.ENROL_UNIT_REQUIRED;
  return errors;
}

function createDevices(client) {
  return {
    /** What the QR stands for: { hostname, fingerprint, expires_at }. */
    enrolment: (token) => client.get(paths.enrolment(token)),
    /** -> the enrolled device. key: the Idempotency-Key of a resend (utils/ids resendKey). */
    approve: (token, { name, unitId }, key) =>
      client.post(paths.approve(token), { name: String(name).trim(), unit_id: Number(unitId) }, { idempotencyKey: key }),
    /** One page of devices in scope: { items, total, next_cursor }. */
    list: ({ cursor, unitId, limit } = {}) =>
      client.get(paths.list, { query: { cursor, unit_id: unitId, limit: limit || 20 } }),
    revoke: (id, key) => client.post(paths.revoke(id), undefined, { idempotencyKey: key }),
    /** Units in the admin's scope for the picker, by name: { items, total, next_cursor }. */
    units: (q) => client.get(paths.units, { query: { q: String(q || '').trim(), limit: 20 } }),
  };
}

module.exports = { createDevices, enrolProblems, NAME_MAX };
