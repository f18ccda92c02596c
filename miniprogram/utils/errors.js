/**
 * ApiError: every failure a caller sees. `code` is the server's code (e.g. "captcha_invalid") or
 * one of the client's own: "network", "timeout", "offline", "server", "bad_answer".
 * `message` is Chinese text for the user; `fields` maps form fields to messages.
 * `retryable` says whether trying the same call again may help; for a write, retry it with the
 * same `idempotencyKey` so the server performs it once.
 */
const msg = require('./messages');

class ApiError extends Error {
  constructor({ status, code, message, fields, retryable, idempotencyKey }) {
    super(message || msg.SERVER);
    this.name = 'ApiError';
    this.status = status || 0;
    this.code = code || 'error';
    this.fields = fields || {};
    this.retryable = !!retryable;
    this.idempotencyKey = idempotencyKey || null;
  }
}

const RETRYABLE_STATUS = [408, 429, 500, 502, 503, 504];
// 403s that say what must happen first; the server keeps none for its key: sent again after the step, it runs
const BLOCKING_CODES = ['sms_check_required', 'password_change_required', 'unit_choice_required'];

/** An error from an HTTP answer with a non-2xx status. */
function fromResponse(res, idempotencyKey) {
  const status = res.statusCode;
  const body = res.data && typeof res.data === 'object' ? res.data : null;
  const error = body && body.error && typeof body.error === 'object' ? body.error : null;
  // 409 request_in_progress: the same write is still running; a resend gets its answer
  const retryable = RETRYABLE_STATUS.indexOf(status) >= 0 || (!!error && error.code === 'request_in_progress');
  if (error && typeof error.message === 'string') {
    return new ApiError({
      status,
      code: String(error.code || 'error'),
      message: error.message,
      fields: error.fields && typeof error.fields === 'object' ? error.fields : {},
      retryable,
      idempotencyKey,
    });
  }
  return new ApiError({
    status,
    code: status >= 500 ? 'server' : 'http_' + status,
    message: status === 401 ? msg.SESSION_EXPIRED : msg.SERVER,
    retryable,
    idempotencyKey,
  });
}

/** An error from wx.request's fail callback (no HTTP answer at all). */
function fromFailure(failure, idempotencyKey) {
  const text = String((failure && failure.errMsg) || '');
  const timeout = /timeout|timed out/i.test(text);
  return new ApiError({
    status: 0,
    code: timeout ? 'timeout' : 'network',
    message: timeout ? msg.TIMEOUT : msg.NETWORK,
    retryable: true,
    idempotencyKey,
  });
}

module.exports = { ApiError, fromResponse, fromFailure, RETRYABLE_STATUS, BLOCKING_CODES };
