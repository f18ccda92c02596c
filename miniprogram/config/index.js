/**
 * Where the API is and how patient the client is. The API base URL depends on the mini-program's
 * version (DevTools and preview: "develop"; experience version: "trial"; published: "release").
 * In develop and trial, a base URL stored under API_BASE_OVERRIDE_KEY wins (to point a phone at
 * a computer on the same Wi-Fi, e.g. http://192.168.1.20:8000); see README.md.
 */
const API_BASE = {
  develop: 'http://127.0.0.1:8000', // `make run` on this computer (DevTools: "do not verify domain")
  trial: 'https://cunwu-staging.example.cn', // placeholder: the staging server's HTTPS address
  release: 'https://cunwu.example.cn', // placeholder: the production server's HTTPS address
};

const API_BASE_OVERRIDE_KEY = 'cwt:apiBase';

function envVersion() {
  try {
    return wx.getAccountInfoSync().miniProgram.envVersion || 'develop';
  } catch (e) {
    return 'develop';
  }
}

function apiBase() {
  const env = envVersion();
  if (env !== 'release') {
    let override = '';
    try {
      override = wx.getStorageSync(API_BASE_OVERRIDE_KEY) || '';
    } catch (e) {
      override = '';
    }
    if (override) return String(override).replace(/\/+$/, '');
  }
  return API_BASE[env] || API_BASE.develop;
}

module.exports = {
  API_BASE,
  API_BASE_OVERRIDE_KEY,
  apiBase,
  envVersion,
  // Weak network (W6)
  REQUEST_TIMEOUT_MS: 10000, // per call
  READ_RETRIES: 2, // a read is tried at most 3 times
  BACKOFF_BASE_MS: 1000, // 1 s, 2 s, ... with jitter
  BACKOFF_MAX_MS: 8000,
  MAX_CONCURRENT: 8, // WeChat allows 10 requests at once (request, upload, download together)
  OFFLINE_WAIT_MS: 120000, // a call waits this long for the network to come back, then fails
  // Storage
  HISTORY_LIMIT: 100, // chat messages kept per account
  HISTORY_MAX_CHARS: 400000, // and at most this much JSON (storage holds 10 MB per mini-program)
  // All accounts' histories together (a phone shared by several cadres, or one switching
  // accounts): the least recently used give way first. WeChat keeps 10 MB per mini-program (1 MB
  // per key); a Chinese character can take 3 bytes, so 1.2 M characters is at most ~3.6 MB: three
  // accounts at their full HISTORY_MAX_CHARS, and more than half of the 10 MB left to the answer
  // cache (counted in entries, not bytes), the session and the drafts.
  HISTORY_TOTAL_CHARS: 1200000,
  CACHE_LIMIT: 60, // last answers kept, least recently used dropped
};
