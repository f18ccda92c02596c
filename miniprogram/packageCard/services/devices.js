/** Office PCs with the card service (C2): enrolment by scanning, the list in scope, revocation. */
const endpoints = require('../../services/endpoints');
const texts = require('./texts');

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
    enrolment: (token) => client.get(endpoints.devices.enrolment(token)),
    /** -> the enrolled device. key: the Idempotency-Key of a resend (utils/ids resendKey). */
    approve: (token, { name, unitId }, key) =>
      client.post(endpoints.devices.approve(token), { name: String(name).trim(), unit_id: Number(unitId) }, { idempotencyKey: key }),
    /** One page of devices in scope: { items, total, next_cursor }. */
    list: ({ cursor, unitId, limit } = {}) =>
      client.get(endpoints.devices.list, { query: { cursor, unit_id: unitId, limit: limit || 20 } }),
    revoke: (id) => client.post(endpoints.devices.revoke(id)),
    /** Units in the admin's scope for the picker, by name: { items, total, next_cursor }. */
    units: (q) => client.get(endpoints.units, { query: { q: String(q || '').trim(), limit: 20 } }),
  };
}

module.exports = { createDevices, enrolProblems, NAME_MAX };
