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

module.exports = { toast, confirm };
