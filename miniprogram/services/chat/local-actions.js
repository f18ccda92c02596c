/**
 * Chat actions the mini-program carries out itself instead of sending them to POST /api/chat.
 *
 * "review.image" ({ review_id, index }, 1-based): the image of a manual review is downloaded
 * with the session's token (GET /api/reviews/{review_id}/images/{index}) and shown with
 * wx.previewImage. run() resolves with the text to show ('' for none): "图片不存在或已删除" for
 * a 404, that a network is needed when offline (nothing is downloaded then) or when the download
 * found none; nothing on a 401, which ends the session as on every call (the app shows the login
 * screen, which says why); the server's message for another refusal.
 */
const endpoints = require('../endpoints');
const msg = require('../../utils/messages');

const REVIEW_IMAGE = 'review.image';
const NO_NETWORK = ['network', 'offline'];
// An ID photo is up to 4 MB: about 2 minutes at 35 KB/s (the upload of the same images gets 60 s for
// up to 12 MB). Not retried by itself: each try starts from zero and is audited; the user taps again.
const IMAGE_DOWNLOAD = { timeout: 120000, retries: 0 };

/** Whether the chat carries out this action itself (see createLocalActions). */
function isLocal(action) {
  return !!action && action.intent === REVIEW_IMAGE;
}

function positiveInt(value) {
  const n = Number(value);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** What a failed download shows. */
function imageProblem(error) {
  if (error.status === 401) return '';
  if (error.status === 404) return msg.IMAGE_GONE;
  if (NO_NETWORK.indexOf(error.code) >= 0) return msg.IMAGE_NEEDS_NETWORK;
  return error.message || msg.SERVER;
}

/** deps: client (utils/request), network (utils/network), wx (the API object; the global one if not given). */
function createLocalActions(deps) {
  const wxApi = deps.wx || wx;
  const opening = new Set(); // images on their way: a second tap is not a second download

  function preview(file) {
    return new Promise((resolve) => {
      wxApi.previewImage({ urls: [file], current: file, success: resolve, fail: resolve });
    });
  }

  async function reviewImage(params) {
    const id = positiveInt(params.review_id);
    const index = positiveInt(params.index);
    if (!id || !index) return msg.IMAGE_GONE;
    if (!deps.network.isOnline()) return msg.IMAGE_NEEDS_NETWORK;
    const path = endpoints.reviewImage(id, index);
    if (opening.has(path)) return '';
    opening.add(path);
    wxApi.showLoading({ title: msg.IMAGE_LOADING }); // no mask: the chat stays usable while it loads
    let file;
    try {
      file = await deps.client.download(path, IMAGE_DOWNLOAD);
    } catch (error) {
      return imageProblem(error);
    } finally {
      opening.delete(path);
      if (!opening.size) wxApi.hideLoading();
    }
    await preview(file);
    return '';
  }

  return {
    /** Carry out a local action (isLocal): resolves with the text to show, '' for none. */
    run(action) {
      return reviewImage(action.params || {});
    },
  };
}

module.exports = { createLocalActions, isLocal, REVIEW_IMAGE };
