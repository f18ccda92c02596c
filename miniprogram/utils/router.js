/** Where to go next after a login step, and the guard every signed-in page runs first. */
const { defaultSession, SCREENS } = require('../services/session');

function currentRoute() {
  try {
    const pages = getCurrentPages();
    return pages.length ? `/${pages[pages.length - 1].route}` : '';
  } catch (e) {
    return '';
  }
}

/** Go to the screen the session requires (replacing the whole page stack). */
function goNext(url) {
  const target = url || defaultSession().next();
  if (currentRoute() === target) return target;
  wx.reLaunch({ url: target });
  return target;
}

/** For a page that needs a session in state `screen`: true if the page may stay. */
function guard(screen) {
  const target = defaultSession().next();
  if (target === screen) return true;
  goNext(target);
  return false;
}

module.exports = { goNext, guard, currentRoute, SCREENS };
