/**
 * Loading pages and components for tests: miniprogram-simulate with WeChat's own template
 * compiler (wcc from miniprogram-compiler, compiler: 'official'), rooted at the project so
 * absolute usingComponents paths ("/components/...", "/miniprogram_npm/...") resolve as in WeChat.
 */
const fs = require('fs');
const path = require('path');
const simulate = require('miniprogram-simulate');

const ROOT = path.resolve(__dirname, '../..');

if (!fs.existsSync(path.join(ROOT, 'miniprogram_npm', 'tdesign-miniprogram'))) {
  throw new Error('miniprogram_npm/ is missing: run `npm run build:npm` (what DevTools calls "Build npm") first');
}

/** Every page of app.json (main package and subpackages) and every component directory. */
function allPages() {
  const app = JSON.parse(fs.readFileSync(path.join(ROOT, 'app.json'), 'utf8'));
  const pages = app.pages.slice();
  (app.subpackages || []).forEach((sub) => sub.pages.forEach((p) => pages.push(`${sub.root}/${p}`)));
  return pages;
}

function allComponents() {
  const found = [];
  ['components', 'packageHeavy/components'].forEach((dir) => {
    fs.readdirSync(path.join(ROOT, dir)).forEach((name) => {
      if (fs.existsSync(path.join(ROOT, dir, name, 'index.json'))) found.push(`${dir}/${name}/index`);
    });
  });
  return found;
}

/** Load, render and attach one page or component; `query` is the page's onLoad argument. */
function mount(rel, props, query) {
  global.__pageQuery = query || {};
  // miniprogram-simulate runs a component's script by require() and then drops it from
  // require.cache, which jest's registry ignores: reset it so each mount runs the scripts again
  // (and gets fresh service singletons, which keeps tests apart).
  jest.resetModules();
  const id = simulate.load(path.join(ROOT, rel), {
    rootPath: ROOT,
    compiler: 'official',
    compilerOptions: { maxBuffer: 64 * 1024 * 1024 }, // two TDesign copies (main and packageHeavy) compile to ~2 MB
  });
  const comp = simulate.render(id, props);
  const parent = document.createElement('parent-wrapper');
  comp.attach(parent);
  if (!comp.dom.parentNode) {
    // options.virtualHost (the chat's own components, as TDesign's): simulate builds a new <virtual>
    // node each time `dom` is read, so its detach() cannot remove the one it attached. Pin one.
    const detach = comp.detach.bind(comp);
    comp.detach = () => {
      const dom = comp.dom;
      Object.defineProperty(comp, 'dom', { value: dom, configurable: true });
      if (comp.parentNode) comp.parentNode.appendChild(dom);
      detach();
      delete comp.dom;
    };
  }
  return comp;
}

/** Let promises and setData callbacks run (simulate's own async mocks use timers of 0). */
async function settle(times) {
  for (let i = 0; i < (times || 5); i += 1) {
    await simulate.sleep(0);
  }
}

/** Confirm the page's t-dialog if it is open (a second tap while a write is on its way may open none), then settle. */
async function confirmIfAsked(page) {
  const dialog = page.querySelector('#t-dialog').instance;
  if (dialog.data.visible) dialog._onConfirm();
  await settle(10);
}

function text(node) {
  return (node.dom ? node.dom : node).textContent.replace(/\s+/g, ' ').trim();
}

module.exports = { ROOT, allPages, allComponents, mount, settle, confirmIfAsked, text, simulate };
