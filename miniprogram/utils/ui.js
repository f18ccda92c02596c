/** TDesign toast and dialog as one-liners (each page has <t-toast id="t-toast"/> and <t-dialog id="t-dialog"/>). */
const Toast = require('tdesign-miniprogram/toast/index').default;
const Dialog = require('tdesign-miniprogram/dialog/index').default;

function toast(page, message, theme) {
  if (!message) return;
  Toast({ context: page, selector: '#t-toast', message, theme: theme || undefined, direction: 'column' });
}

/** Resolves true on confirm, false on cancel. */
function confirm(page, content, title) {
  return Dialog.confirm({
    context: page,
    selector: '#t-dialog',
    title: title || '请确认',
    content,
    confirmBtn: '确定',
    cancelBtn: '取消',
  }).then(
    () => true,
    () => false
  );
}

const BACK_AFTER_TOAST_MS = 1200; // the success toast is read, then the page before shows

/**
 * After a success toast: back to the page before. The page clears `page.backTimer` in onUnload: a
 * user who pressed Back meanwhile must not be sent back one page more.
 */
function backAfterToast(page) {
  clearTimeout(page.backTimer);
  page.backTimer = setTimeout(() => wx.navigateBack(), BACK_AFTER_TOAST_MS);
}

module.exports = { toast, confirm, backAfterToast };
