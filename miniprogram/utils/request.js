/**
 * The one way the mini-program talks to the API (W6: weak rural networks).
 *
 * - Every call has a timeout (10 s).
 * - Reads (GET) are retried a bounded number of times with exponential backoff and jitter, after
 *   a network failure, a timeout, or a 408 / 429 / 5xx answer (Retry-After is honoured).
 * - Writes are never retried here. Each carries an `Idempotency-Key` header; the key travels with
 *   the error, and a caller that retries the write (the "重发" button) passes it back, so the
 *   server performs the write once.
 * - At most MAX_CONCURRENT calls are in flight (WeChat allows 10); the rest wait in a queue that
 *   pauses while the phone is offline and resumes when the network returns. A call started
 *   offline, or waiting in the queue when the phone goes offline, waits for the network up to
 *   OFFLINE_WAIT_MS, then fails as "offline" (a write's error keeps its key for the resend).
 * - A 401 on a call that carried the current token emits "unauthenticated" (the late answer to a
 *   token a new login replaced does not); a 403 that says what must happen first (SMS check,
 *   password change, unit choice) emits "blocked".
 * - download(path) is a read through wx.downloadFile (same token, timeout, retries, queue and
 *   events): it resolves with the temp file's path; a refusal's JSON body is read from the file.
 */
const defaults = require('../config/index');
const { createEmitter } = require('./emitter');
const { createQueue } = require('./queue');
const { ApiError, fromResponse, fromFailure, BLOCKING_CODES } = require('./errors');
const { idempotencyKey: newKey } = require('./ids');
const msg = require('./messages');

const READ_METHODS = ['GET', 'HEAD'];

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function headerValue(headers, name) {
  if (!headers) return undefined;
  const wanted = name.toLowerCase();
  const key = Object.keys(headers).find((k) => k.toLowerCase() === wanted);
  return key === undefined ? undefined : headers[key];
}

function withQuery(path, query) {
  if (!query) return path;
  const parts = Object.keys(query)
    .filter((k) => query[k] !== undefined && query[k] !== null && query[k] !== '')
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(query[k])}`);
  if (!parts.length) return path;
  return path + (path.indexOf('?') >= 0 ? '&' : '?') + parts.join('&');
}

/**
 * options: wx (the API object), config, network (utils/network), getToken () => string,
 * baseUrl () => string, random () => [0, 1).
 */
function createClient(options) {
  const opts = options || {};
  const wxApi = opts.wx || wx;
  const cfg = Object.assign({}, defaults, opts.config || {});
  const network = opts.network || require('./network').defaultNetwork();
  const getToken = opts.getToken || (() => '');
  const baseUrl = opts.baseUrl || (() => defaults.apiBase());
  const random = opts.random || Math.random;
  const events = createEmitter();
  const queue = createQueue(cfg.MAX_CONCURRENT);

  if (!network.isOnline()) queue.pause();
  network.onChange((online) => (online ? queue.resume() : queue.pause()));

  function backoff(attempt, retryAfter) {
    const seconds = Number(retryAfter);
    if (retryAfter !== undefined && isFinite(seconds) && seconds >= 0) {
      return Math.min(seconds * 1000, cfg.BACKOFF_MAX_MS);
    }
    const full = Math.min(cfg.BACKOFF_BASE_MS * Math.pow(2, attempt), cfg.BACKOFF_MAX_MS);
    return Math.round(full / 2 + (random() * full) / 2); // "equal jitter": half fixed, half random
  }

  function send(call) {
    return new Promise((resolve, reject) => {
      if (call.download) {
        wxApi.downloadFile({ url: call.url, header: call.header, timeout: call.timeout, success: resolve, fail: reject });
        return;
      }
      wxApi.request({
        url: call.url,
        method: call.method,
        data: call.data,
        header: call.header,
        timeout: call.timeout,
        dataType: 'json',
        responseType: 'text',
        enableHttp2: true,
        success: resolve,
        fail: reject,
      });
    });
  }

  /** The error body a download wrote to its temp file (null when there is none to read). */
  function downloadedBody(res) {
    try {
      return JSON.parse(wxApi.getFileSystemManager().readFileSync(res.tempFilePath, 'utf8'));
    } catch (e) {
      return null;
    }
  }

  function offlineError(key) {
    return new ApiError({ code: 'offline', message: msg.OFFLINE_GAVE_UP, retryable: true, idempotencyKey: key });
  }

  async function waitForNetwork(key) {
    if (network.isOnline()) return;
    const back = await network.waitOnline(cfg.OFFLINE_WAIT_MS);
    if (!back) throw offlineError(key);
  }

  /**
   * Runs `task` in the queue. While it waits there with the phone offline (the queue is paused),
   * each offline spell may last OFFLINE_WAIT_MS; then it leaves the queue as "offline".
   */
  function queued(task, key) {
    let timer = null;
    let off = null;
    const done = () => {
      clearTimeout(timer);
      off();
    };
    const job = () => {
      done();
      return task();
    };
    const arm = (online) => {
      clearTimeout(timer);
      timer = online ? null : setTimeout(() => queue.drop(job, offlineError(key)) && done(), cfg.OFFLINE_WAIT_MS);
    };
    off = network.onChange(arm);
    if (!network.isOnline()) arm(false);
    return queue.run(job);
  }

  /**
   * request({ method, path, query, data, header, auth, idempotencyKey, retries, timeout, download })
   * resolves with the parsed body (null for 204), or the temp file's path for a download, or
   * rejects with an ApiError.
   */
  async function request(call) {
    const method = (call.method || 'GET').toUpperCase();
    const read = READ_METHODS.indexOf(method) >= 0;
    const key = read ? null : call.idempotencyKey || newKey(random);
    const maxRetries = read ? (call.retries === undefined ? cfg.READ_RETRIES : call.retries) : 0;
    const token = call.auth === false ? '' : getToken();
    const header = Object.assign({ Accept: call.download ? '*/*' : 'application/json' }, call.header || {});
    if (token) header.Authorization = `Bearer ${token}`;
    if (key) header['Idempotency-Key'] = key;
    if (!read && call.data !== undefined && !headerValue(header, 'content-type')) {
      header['Content-Type'] = 'application/json';
    }
    const url = baseUrl() + withQuery(call.path, call.query);

    for (let attempt = 0; ; attempt += 1) {
      await waitForNetwork(key);
      let res;
      try {
        res = await queued(
          () => send({ url, method, data: call.data, header, timeout: call.timeout || cfg.REQUEST_TIMEOUT_MS, download: call.download }),
          key
        );
      } catch (failure) {
        if (failure instanceof ApiError) throw failure; // gave up waiting for the network
        const error = fromFailure(failure, key);
        if (attempt < maxRetries) {
          await sleep(backoff(attempt));
          continue;
        }
        throw error;
      }
      if (call.download) {
        if (res.statusCode >= 200 && res.statusCode < 300) return res.tempFilePath;
        res = Object.assign({}, res, { data: downloadedBody(res) });
      } else if (res.statusCode >= 200 && res.statusCode < 300) {
        if (res.statusCode === 204 || res.data === '' || res.data === undefined) return null;
        if (typeof res.data === 'string') {
          throw new ApiError({ status: res.statusCode, code: 'bad_answer', message: msg.BAD_ANSWER });
        }
        return res.data;
      }
      const error = fromResponse(res, key);
      if (read && error.retryable && attempt < maxRetries) {
        await sleep(backoff(attempt, headerValue(res.header, 'retry-after')));
        continue;
      }
      // Only for the token in use: a late answer to one a new login has replaced ends nothing.
      if (error.status === 401 && token && token === getToken()) events.emit('unauthenticated', error);
      if (error.status === 403 && BLOCKING_CODES.indexOf(error.code) >= 0) events.emit('blocked', error);
      throw error;
    }
  }

  return {
    request,
    get: (path, extra) => request(Object.assign({}, extra, { method: 'GET', path })),
    post: (path, data, extra) => request(Object.assign({}, extra, { method: 'POST', path, data })),
    patch: (path, data, extra) => request(Object.assign({}, extra, { method: 'PATCH', path, data })),
    del: (path, extra) => request(Object.assign({}, extra, { method: 'DELETE', path })),
    /** GET `path` into a temp file (wx.downloadFile): resolves with its path. */
    download: (path, extra) => request(Object.assign({}, extra, { method: 'GET', path, download: true })),
    on: events.on,
    queue,
    backoff,
  };
}

module.exports = { createClient, withQuery };
