/** The services of the account subpackage, over the app's shared API client, cache and session. */
const { services } = require('../../services/index');
const { createProfile } = require('./profile');

let shared = null;

function accountServices() {
  if (!shared) {
    const s = services();
    shared = { profile: createProfile(s.client, s.cache, s.session) };
  }
  return shared;
}

module.exports = { accountServices };
