/**
 * "review.image" buttons of the chat are the mini-program's own: the request client downloads
 * GET /api/reviews/{id}/images/{index} with the session's token (utils/request download), and
 * services/chat/local-actions turns the outcome into what the chat shows (a preview, or a toast).
 */
const { createFakeWx } = require('../support/fake-wx');
const { createNetwork } = require('../../utils/network');
const { createClient } = require('../../utils/request');
const { createLocalActions, isLocal } = require('../../services/chat/local-actions');
const msg = require('../../utils/messages');

/** A fake wx whose downloadFile answers like the API: the bytes in a temp file, with the status. */
function setup(answer) {
  const wx = createFakeWx();
  const files = new Map();
  const downloads = [];
  const previews = [];
  wx.downloadFile = (options) => {
    downloads.push({ url: options.url, header: Object.assign({}, options.header), timeout: options.timeout });
    Promise.resolve().then(() => {
      const out = answer(downloads.length);
      if (out.fail) return options.fail({ errMsg: `downloadFile:fail ${out.fail}` });
      const tempFilePath = `wxfile://tmp_${downloads.length}`;
      files.set(tempFilePath, out.body || '');
      return options.success({ statusCode: out.statusCode, tempFilePath, errMsg: 'downloadFile:ok' });
    });
    return { abort() {} };
  };
  wx.getFileSystemManager = () => ({
    readFileSync(path) {
      if (!files.has(path)) throw new Error('readFileSync:fail no such file');
      return files.get(path);
    },
  });
  wx.previewImage = (options) => {
    previews.push({ urls: options.urls, current: options.current });
    if (options.success) options.success({});
  };
  wx.showLoading = () => {};
  wx.hideLoading = () => {};
  const network = createNetwork(wx);
  network.start();
  const client = createClient({ wx, network, getToken: () => 'tok', baseUrl: () => 'http://api.test', random: () => 0.5 });
  const ended = [];
  client.on('unauthenticated', (e) => ended.push(e.status));
  const local = createLocalActions({ client, network, wx });
  return { wx, client, network, local, downloads, previews, ended };
}

const IMAGE = { intent: 'review.image', params: { review_id: 5, index: 2 } };
const gone = { statusCode: 404, body: JSON.stringify({ error: { code: 'not_found', message: '审核图片已删除', fields: {} } }) };

test('only "review.image" is handled on the phone', () => {
  expect(isLocal(IMAGE)).toBe(true);
  expect(isLocal({ intent: 'summary', params: {} })).toBe(false);
  expect(isLocal(null)).toBe(false);
});

test('the client downloads with the session token and the timeout, and answers the temp file', async () => {
  const { client, downloads } = setup(() => ({ statusCode: 200, body: '\x89PNG' }));
  await expect(client.download('/api/reviews/5/images/2')).resolves.toBe('wxfile://tmp_1');
  expect(downloads).toEqual([{ url: 'http://api.test/api/reviews/5/images/2', header: expect.objectContaining({ Authorization: 'Bearer tok' }), timeout: 10000 }]);
});

test('a download refused by the server fails with the server\'s code and message, read from the file', async () => {
  const { client } = setup(() => gone);
  await expect(client.download('/api/reviews/5/images/2')).rejects.toMatchObject({ status: 404, code: 'not_found', message: '审核图片已删除' });
});

test('a 401 on a download ends the session as any call does', async () => {
  const { client, ended } = setup(() => ({ statusCode: 401, body: '' }));
  await expect(client.download('/api/reviews/5/images/2')).rejects.toMatchObject({ status: 401 });
  expect(ended).toEqual([401]);
});

test('"review.image" downloads image {index} of review {review_id} and previews the temp file', async () => {
  const { local, downloads, previews } = setup(() => ({ statusCode: 200, body: '\x89PNG' }));
  await expect(local.run(IMAGE)).resolves.toBe('');
  expect(downloads[0].url).toBe('http://api.test/api/reviews/5/images/2');
  expect(previews).toEqual([{ urls: ['wxfile://tmp_1'], current: 'wxfile://tmp_1' }]);
});

test('an image that is gone (404) says "图片不存在或已删除"', async () => {
  const { local, previews } = setup(() => gone);
  await expect(local.run(IMAGE)).resolves.toBe('图片不存在或已删除');
  expect(previews).toEqual([]);
});

test('offline: nothing is downloaded and the user is told a network is needed', async () => {
  const { local, network, downloads } = setup(() => ({ statusCode: 200 }));
  network.set(false);
  await expect(local.run(IMAGE)).resolves.toBe(msg.IMAGE_NEEDS_NETWORK);
  expect(downloads).toEqual([]);
});

test('a download lost on the network says a network is needed; it is not started again from zero by itself', async () => {
  const { local, downloads } = setup(() => ({ fail: 'net::ERR_INTERNET_DISCONNECTED' }));
  await expect(local.run(IMAGE)).resolves.toBe(msg.IMAGE_NEEDS_NETWORK);
  expect(downloads).toHaveLength(1); // one tap, one download: a retry of a 4 MB photo costs the whole photo again
});

test('an ID photo of up to 4 MB gets the time a weak signal needs (2 min: 4 MB at ~35 KB/s), tried once', async () => {
  const { local, downloads } = setup(() => ({ fail: 'timeout' })); // a 3 MB photo at 40 KB/s: 75 s
  await expect(local.run(IMAGE)).resolves.toBe(msg.TIMEOUT);
  expect(downloads.map((d) => d.timeout)).toEqual([120000]);
});

test('a 401 shows nothing here: the app sends the user to the login screen, which says why', async () => {
  const { local, ended, previews } = setup(() => ({ statusCode: 401, body: '' }));
  await expect(local.run(IMAGE)).resolves.toBe('');
  expect(ended).toEqual([401]);
  expect(previews).toEqual([]);
});

test('another refusal shows the server\'s message (e.g. no permission)', async () => {
  const body = JSON.stringify({ error: { code: 'forbidden', message: '没有权限', fields: {} } });
  const { local } = setup(() => ({ statusCode: 403, body }));
  await expect(local.run(IMAGE)).resolves.toBe('没有权限');
});

test('a button without a usable review or index downloads nothing', async () => {
  const { local, downloads } = setup(() => ({ statusCode: 200 }));
  await expect(local.run({ intent: 'review.image', params: { review_id: 'x', index: 0 } })).resolves.toBe('图片不存在或已删除');
  expect(downloads).toEqual([]);
});

test('a second tap while the same image is downloading is ignored', async () => {
  const { local, downloads, previews } = setup(() => ({ statusCode: 200, body: '\x89PNG' }));
  const first = local.run(IMAGE);
  await expect(local.run(IMAGE)).resolves.toBe('');
  await first;
  expect(downloads).toHaveLength(1);
  expect(previews).toHaveLength(1);
});
