/**
 * App start: listen to the network (the request queue pauses while offline), and send the user
 * to the right screen when the server says the session ended (401) or that something must
 * happen first (SMS check, forced password change, unit choice).
 */
const { services } = require('./services/index');
const { defaultNetwork } = require('./utils/network');
const { goNext, SCREENS } = require('./utils/router');

const BLOCKED_SCREEN = {
  sms_check_required: SCREENS.smsCheck,
  password_change_required: SCREENS.password,
  unit_choice_required: SCREENS.unit,
};

App({
  onLaunch() {
    defaultNetwork();
    const s = services();
    s.client.on('unauthenticated', () => goNext(`${SCREENS.login}?expired=1`)); // the login screen says why
    s.client.on('blocked', (error) => goNext(BLOCKED_SCREEN[error.code]));
  },
  globalData: {},
});
