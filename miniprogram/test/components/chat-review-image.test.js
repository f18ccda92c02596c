/**
 * A chat button with the intent "review.image" is the mini-program's own: it is not sent to
 * POST /api/chat; the image is downloaded with the session's token and shown with
 * wx.previewImage. Gone (404), offline and an ended session (401) each say or do what they should.
 */
const { mount, settle } = require('../support/simulate');
const { install } = require('../support/fake-server');
const { signIn, SESSION } = require('../support/fixtures');

const REVIEW_CARD = {
  blocks: [
    {
      type: 'card',
      title: '人工审核 #5',
      fields: [{ label: '图片', value: '2 张' }],
      actions: [
        { label: '图片1', intent: 'review.image', params: { review_id: 5, index: 1 } },
        { label: '通过', intent: 'review.approve', params: { review_id: 5 } },
      ],
    },
  ],
  suggestions: [{ label: '看图片2', action: { label: '看图片2', intent: 'review.image', params: { review_id: 5, index: 2 } } }],
};

const tapButton = (node) => node.querySelector('.t-button').dispatchEvent('tap');
const toastText = (page) => page.querySelector('#t-toast').instance.data.message;

/** downloadFile answers `answer()` ({ statusCode, body } or { fail }); every download and preview is recorded. */
function fakeImages(answer) {
  const seen = { downloads: [], previews: [] };
  const files = new Map();
  global.wx.downloadFile = (options) => {
    seen.downloads.push({ url: options.url, header: Object.assign({}, options.header) });
    setTimeout(() => {
      const out = answer();
      if (out.fail) return options.fail({ errMsg: `downloadFile:fail ${out.fail}` });
      const tempFilePath = `wxfile://tmp_${seen.downloads.length}`;
      files.set(tempFilePath, out.body || '');
      return options.success({ statusCode: out.statusCode, tempFilePath, errMsg: 'downloadFile:ok' });
    }, 0);
    return { abort() {} };
  };
  global.wx.getFileSystemManager = () => ({ readFileSync: (p) => files.get(p) });
  global.wx.previewImage = (options) => seen.previews.push({ urls: options.urls, current: options.current });
  return seen;
}

async function openWithCard() {
  signIn();
  const calls = install({ 'GET /api/session': () => SESSION, 'POST /api/chat': () => REVIEW_CARD });
  const page = mount('pages/chat/index');
  await settle();
  page.instance.conversation.sendText('待审核');
  await settle(10);
  const chats = () => calls.filter((c) => c.key === 'POST /api/chat');
  const imageButton = () => page.querySelector('.answer-blocks').querySelectorAll('.card-action')[0];
  return { page, chats, imageButton };
}

test('an image button downloads the image with the session token and previews it; nothing goes to /api/chat', async () => {
  const seen = fakeImages(() => ({ statusCode: 200, body: '\x89PNG' }));
  const { page, chats, imageButton } = await openWithCard();
  expect(chats()).toHaveLength(1);
  tapButton(imageButton());
  await settle(10);
  expect(chats()).toHaveLength(1);
  expect(seen.downloads).toEqual([{ url: expect.stringMatching(/\/api\/reviews\/5\/images\/1$/), header: expect.objectContaining({ Authorization: 'Bearer tok-1' }) }]);
  expect(seen.previews).toEqual([{ urls: ['wxfile://tmp_1'], current: 'wxfile://tmp_1' }]);
  expect(page.instance.data.messages).toHaveLength(2); // no message for the tap

  page.querySelector('#replies').querySelectorAll('.chip')[0].dispatchEvent('tap'); // a quick reply with the intent
  await settle(10);
  expect(chats()).toHaveLength(1);
  expect(seen.downloads[1].url).toMatch(/\/api\/reviews\/5\/images\/2$/);
});

test('an image that is gone (404) shows "图片不存在或已删除"', async () => {
  const seen = fakeImages(() => ({ statusCode: 404, body: JSON.stringify({ error: { code: 'not_found', message: '审核图片已删除', fields: {} } }) }));
  const { page, imageButton } = await openWithCard();
  tapButton(imageButton());
  await settle(10);
  expect(toastText(page)).toBe('图片不存在或已删除');
  expect(seen.previews).toEqual([]);
});

test('offline: a toast says the network is needed, and nothing is downloaded', async () => {
  const listeners = [];
  global.wx.onNetworkStatusChange = (fn) => listeners.push(fn);
  const seen = fakeImages(() => ({ statusCode: 200 }));
  const { page, imageButton } = await openWithCard();
  listeners.forEach((fn) => fn({ isConnected: false, networkType: 'none' }));
  await settle();
  tapButton(imageButton());
  await settle(10);
  expect(toastText(page)).toBe('查看图片需要网络，请联网后重试');
  expect(seen.downloads).toEqual([]);
});

test('a 401 ends the session as elsewhere (the app then shows the login screen); no toast, no preview', async () => {
  const seen = fakeImages(() => ({ statusCode: 401, body: '' }));
  const { page, imageButton } = await openWithCard();
  tapButton(imageButton());
  await settle(10);
  expect(global.wx.getStorageSync('cwt:session')).toBe('');
  expect(toastText(page)).toBeFalsy();
  expect(seen.previews).toEqual([]);
});
