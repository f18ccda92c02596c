/** config: the API base URL per version, and the develop/trial override from storage. */
const { createFakeWx } = require('../support/fake-wx');

function load(envVersion, override) {
  jest.resetModules();
  const wx = createFakeWx();
  wx.getAccountInfoSync = () => ({ miniProgram: { envVersion } });
  if (override) wx.setStorageSync('cwt:apiBase', override);
  global.wx = wx;
  return require('../../config/index');
}

afterEach(() => delete global.wx);

test('develop uses `make run` on this computer unless a LAN address is stored', () => {
  expect(load('develop').apiBase()).toBe('http://127.0.0.1:8000');
  expect(load('develop', 'http://192.168.1.20:8000/').apiBase()).toBe('http://192.168.1.20:8000');
  expect(load('trial', 'http://10.0.0.2:8000').apiBase()).toBe('http://10.0.0.2:8000');
});

test('release ignores the override and uses HTTPS', () => {
  expect(load('release', 'http://192.168.1.20:8000').apiBase()).toMatch(/^https:\/\//);
  const config = load('release');
  expect(config.REQUEST_TIMEOUT_MS).toBe(10000);
  expect(config.MAX_CONCURRENT).toBeLessThan(10);
});
