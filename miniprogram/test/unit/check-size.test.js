/** scripts/check-size: what counts toward the main package, and when the check fails. */
const fs = require('fs');
const os = require('os');
const path = require('path');
const { measure, problemsOf, MAIN_LIMIT } = require('../../scripts/check-size');

function project(files) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cwt-size-'));
  Object.entries(files).forEach(([name, content]) => {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true });
    fs.writeFileSync(path.join(root, name), content);
  });
  return root;
}

const page = (extra) =>
  Object.assign(
    {
      'app.js': "require('./utils/a')",
      'app.json': JSON.stringify({ pages: ['pages/home/index'], subpackages: [{ root: 'sub', name: 'sub', pages: ['pages/x/index'] }] }),
      'app.wxss': '',
      'utils/a.js': "const b = require('./b');",
      'utils/b.js': '12345',
      'utils/unused.js': 'x'.repeat(1000),
      'pages/home/index.js': "const t = require('lib/t');",
      'pages/home/index.json': JSON.stringify({ usingComponents: { 'c-x': '/components/x/index', 'c-heavy': '/sub/comp/index' } }),
      'pages/home/index.wxml': '<wxs src="./f.wxs" module="f"/><c-x/>',
      'pages/home/f.wxs': 'module.exports = {}',
      'components/x/index.js': 'Component({})',
      'components/x/index.json': '{"component": true}',
      'components/x/index.wxml': '<view/>',
      'components/x/index.wxss': "@import '../../styles/base.wxss';",
      'styles/base.wxss': '.a{}',
      'miniprogram_npm/lib/t.js': "import x from 'tslib';",
      'miniprogram_npm/tslib/index.js': '1',
      'miniprogram_npm/lib/unused.js': 'y'.repeat(5000),
      'sub/pages/x/index.js': "require('../../../utils/b')",
      'sub/pages/x/index.json': '{}',
      'sub/pages/x/index.wxml': '<view/>',
      'sub/comp/index.js': 'Component({})',
      'sub/comp/index.json': '{"component": true}',
      'sub/comp/index.wxml': '<view/>',
    },
    extra
  );

test('counts what is reachable: requires, components, wxs, @import, npm modules; not unused files or subpackages', () => {
  const root = project(page());
  const { packages, missing } = measure(root);
  expect(missing).toEqual([]);
  const mainFiles = Object.keys(packages.main.groups).sort();
  expect(mainFiles).toEqual(
    ['app.js', 'app.json', 'app.wxss', 'components/x', 'miniprogram_npm/lib/t.js', 'miniprogram_npm/tslib/index.js', 'pages/home', 'styles/base.wxss', 'utils/a.js', 'utils/b.js'].sort()
  );
  expect(packages.sub.groups).toEqual({ 'sub/pages': expect.any(Number), 'sub/comp': expect.any(Number) });
  expect(problemsOf({ packages, missing })).toEqual([]);
  fs.rmSync(root, { recursive: true, force: true });
});

test('fails on a missing component or module, and above the main-package budget', () => {
  const root = project(page({ 'pages/home/index.json': JSON.stringify({ usingComponents: { 'c-y': '/components/nope/index' } }), 'utils/a.js': "require('./gone')" }));
  const measured = measure(root);
  expect(problemsOf(measured).sort()).toEqual([
    'missing: pages/home/index.json: component "/components/nope/index"',
    'missing: utils/a.js: "./gone"',
  ]);
  const big = { packages: { main: { bytes: MAIN_LIMIT + 1, groups: {} } }, missing: [] };
  expect(problemsOf(big)).toEqual(['main package is 500.0 KB, over the 500.0 KB budget']);
  fs.rmSync(root, { recursive: true, force: true });
});
