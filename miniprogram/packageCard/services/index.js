/** The services of the card subpackage, over the app's shared API client, session and cache. */
const { services } = require('../../services/index');
const { createDevices } = require('./devices');
const { createPairing } = require('./pairing');

let shared = null;

function cardServices() {
  if (!shared) {
    const s = services();
    shared = { devices: createDevices(s.client), pairing: createPairing(s.client, s.session, s.cache) };
  }
  return shared;
}

module.exports = { cardServices };
