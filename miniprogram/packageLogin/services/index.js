/** The services of the login subpackage, over the app's shared API client and session. */
const { services } = require('../../services/index');
const { createWechat } = require('./wechat');

let shared = null;

function loginServices() {
  if (!shared) {
    const s = services();
    shared = { wechat: createWechat(s.client, s.session) };
  }
  return shared;
}

module.exports = { loginServices };
