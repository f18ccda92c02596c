/** The services of the recovery subpackage, over the app's shared API client. */
const { services } = require('../../services/index');
const { createRecovery } = require('./recovery');
const { createReviews } = require('./reviews');

let shared = null;

function recoveryServices() {
  if (!shared) {
    const client = services().client;
    shared = { recovery: createRecovery(client), reviews: createReviews(client) };
  }
  return shared;
}

module.exports = { recoveryServices };
