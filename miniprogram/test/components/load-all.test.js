/**
 * Every page and component compiles with WeChat's template compiler and renders: a broken WXML,
 * a missing component or a script error in any of them fails here.
 */
const { allPages, allComponents, mount, settle } = require('../support/simulate');
const { install, CAPTCHA } = require('../support/fake-server');

beforeEach(() => {
  install({ 'GET /api/auth/captcha': () => CAPTCHA });
});

describe.each(allPages())('page %s', (page) => {
  test('compiles and renders', async () => {
    const comp = mount(page);
    await settle();
    expect(comp.dom.innerHTML.length).toBeGreaterThan(0);
    comp.detach();
  });
});

describe.each(allComponents())('component %s', (component) => {
  test('compiles and renders', async () => {
    const comp = mount(component);
    await settle();
    expect(comp.dom).toBeTruthy();
    comp.detach();
  });
});

test('the harness uses WeChat\'s own compiler: a broken WXML fails with its message', () => {
  const fs = require('fs');
  const os = require('os');
  const path = require('path');
  const simulate = require('miniprogram-simulate');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwt-wxml-'));
  fs.writeFileSync(path.join(dir, 'broken.json'), '{"component": true}');
  fs.writeFileSync(path.join(dir, 'broken.js'), 'Component({})');
  fs.writeFileSync(path.join(dir, 'broken.wxml'), '<view class="a"><text>{{x}}</view>');
  expect(() => simulate.load(path.join(dir, 'broken'), { rootPath: dir, compiler: 'official' })).toThrow(
    /编译 .wxml 文件错误：broken.wxml:1:\d+: expect end-tag `text`/
  );
  fs.rmSync(dir, { recursive: true, force: true });
});
