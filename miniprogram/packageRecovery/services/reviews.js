/**
 * Manual review (R5): identity details, a statement, 1-3 images and a captcha, in one multipart
 * request through the same request helper (timeout, queue, idempotency key).
 */
const multipart = require('../utils/multipart');
const images = require('../utils/images');
const { idempotencyKey: newKey } = require('../../utils/ids');

const REVIEWS = '/api/reviews';
const UPLOAD_TIMEOUT_MS = 60000; // up to 12 MB on a weak signal

function createReviews(client, fs) {
  return {
    /**
     * form: { kind, name, id_number, phone, username?, credit_code?, statement, captcha_id,
     * captcha_answer }; files: [{ path, size }] from wx.chooseMedia. Answers { message }.
     */
    submit(form, files, idempotencyKey) {
      const parts = images.readForUpload(files, fs);
      const fields = {};
      Object.keys(form).forEach((k) => {
        if (form[k] !== undefined && form[k] !== null && form[k] !== '') fields[k] = String(form[k]);
      });
      const key = idempotencyKey || newKey();
      // the boundary follows the key, so a resend carries the same bytes (the server compares them)
      const built = multipart.build(fields, parts, `----cwt${key.replace(/[^A-Za-z0-9]/g, '')}`);
      return client.post(REVIEWS, built.body, {
        header: { 'Content-Type': built.contentType },
        auth: false,
        timeout: UPLOAD_TIMEOUT_MS,
        idempotencyKey: key,
      });
    },
  };
}

module.exports = { createReviews, UPLOAD_TIMEOUT_MS };
