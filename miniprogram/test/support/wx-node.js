/**
 * The wx API the service modules use, on Node: wx.request over Node's fetch (timeout by
 * AbortController, JSON parsed like dataType "json", ArrayBuffer bodies sent as bytes),
 * wx.downloadFile into a temp file, storage in a Map, the file system for chosen images, and a
 * network that is always up.
 */
const fs = require('fs');
const os = require('os');
const path = require('path');

function toBody(data, header) {
  if (data === undefined || data === null) return undefined;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return data;
  const type = Object.keys(header || {}).find((k) => k.toLowerCase() === 'content-type');
  if (type && /x-www-form-urlencoded/.test(header[type])) return new URLSearchParams(data).toString();
  return JSON.stringify(data);
}

function createNodeWx() {
  const store = new Map();
  const sent = [];
  return {
    store,
    sent,
    request(options) {
      const controller = new AbortController();
      const method = (options.method || 'GET').toUpperCase();
      let url = options.url;
      let body = toBody(options.data, options.header);
      if (method === 'GET' && options.data && typeof options.data === 'object') {
        url += (url.includes('?') ? '&' : '?') + new URLSearchParams(options.data).toString();
        body = undefined;
      }
      sent.push({ method, url, header: Object.assign({}, options.header) });
      const timer = setTimeout(() => controller.abort(), options.timeout || 60000);
      fetch(url, { method, headers: options.header, body, signal: controller.signal })
        .then(async (res) => {
          const text = await res.text();
          let data = text;
          if (options.dataType !== 'text') {
            try {
              data = text ? JSON.parse(text) : '';
            } catch (e) {
              data = text;
            }
          }
          const header = {};
          res.headers.forEach((v, k) => (header[k] = v));
          options.success({ statusCode: res.status, data, header, errMsg: 'request:ok' });
        })
        .catch((error) =>
          options.fail({ errMsg: error.name === 'AbortError' ? 'request:fail timeout' : `request:fail ${error.message}` })
        )
        .finally(() => clearTimeout(timer));
      return { abort: () => controller.abort() };
    },
    downloadFile(options) {
      const controller = new AbortController();
      sent.push({ method: 'GET', url: options.url, header: Object.assign({}, options.header) });
      const timer = setTimeout(() => controller.abort(), options.timeout || 60000);
      fetch(options.url, { headers: options.header, signal: controller.signal })
        .then(async (res) => {
          const tempFilePath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cwt-dl-')), 'file');
          fs.writeFileSync(tempFilePath, Buffer.from(await res.arrayBuffer()));
          options.success({ statusCode: res.status, tempFilePath, errMsg: 'downloadFile:ok' });
        })
        .catch((error) =>
          options.fail({ errMsg: error.name === 'AbortError' ? 'downloadFile:fail timeout' : `downloadFile:fail ${error.message}` })
        )
        .finally(() => clearTimeout(timer));
      return { abort: () => controller.abort() };
    },
    getStorageSync: (key) => (store.has(key) ? JSON.parse(store.get(key)) : ''),
    setStorageSync: (key, value) => store.set(key, JSON.stringify(value)),
    removeStorageSync: (key) => store.delete(key),
    getNetworkType: (o) => o.success({ networkType: 'wifi' }),
    onNetworkStatusChange() {},
    getAccountInfoSync: () => ({ miniProgram: { envVersion: 'develop', appId: 'touristappid' } }),
    login: (o) => o.fail({ errMsg: 'login:fail no WeChat client in Node' }),
    getFileSystemManager: () => ({
      readFileSync(file, encoding) {
        if (encoding) return fs.readFileSync(file, encoding);
        const b = fs.readFileSync(file);
        return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
      },
    }),
  };
}

module.exports = { createNodeWx };
