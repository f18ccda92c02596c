/**
 * multipart/form-data built in memory, so one wx.request carries text fields and several images
 * (wx.uploadFile sends one file per call; the review form needs up to three in one request).
 */
function utf8(text) {
  const bytes = [];
  const str = String(text);
  for (let i = 0; i < str.length; i += 1) {
    let code = str.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < str.length) {
      const low = str.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
        i += 1;
      }
    }
    if (code < 0x80) bytes.push(code);
    else if (code < 0x800) bytes.push(0xc0 | (code >> 6), 0x80 | (code & 63));
    else if (code < 0x10000) bytes.push(0xe0 | (code >> 12), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    else {
      bytes.push(0xf0 | (code >> 18), 0x80 | ((code >> 12) & 63), 0x80 | ((code >> 6) & 63), 0x80 | (code & 63));
    }
  }
  return new Uint8Array(bytes);
}

function quote(value) {
  return String(value).replace(/["\r\n\\]/g, '_');
}

/**
 * fields: { name: text }, files: [{ field, filename, contentType, data: ArrayBuffer | Uint8Array }]
 * -> { body: ArrayBuffer, contentType }
 */
function build(fields, files, boundaryText) {
  const boundary = boundaryText || `----cwt${Date.now().toString(16)}${Math.random().toString(16).slice(2)}`;
  const parts = [];
  Object.keys(fields || {}).forEach((name) => {
    const value = fields[name];
    if (value === undefined || value === null) return;
    parts.push(utf8(`--${boundary}\r\nContent-Disposition: form-data; name="${quote(name)}"\r\n\r\n`));
    parts.push(utf8(value));
    parts.push(utf8('\r\n'));
  });
  (files || []).forEach((file) => {
    parts.push(
      utf8(
        `--${boundary}\r\nContent-Disposition: form-data; name="${quote(file.field)}"; filename="${quote(file.filename)}"\r\n` +
          `Content-Type: ${file.contentType || 'application/octet-stream'}\r\n\r\n`
      )
    );
    parts.push(file.data instanceof Uint8Array ? file.data : new Uint8Array(file.data));
    parts.push(utf8('\r\n'));
  });
  parts.push(utf8(`--${boundary}--\r\n`));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const body = new Uint8Array(total);
  let offset = 0;
  parts.forEach((p) => {
    body.set(p, offset);
    offset += p.length;
  });
  return { body: body.buffer, contentType: `multipart/form-data; boundary=${boundary}` };
}

module.exports = { build, utf8 };
