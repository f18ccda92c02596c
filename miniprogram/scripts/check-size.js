#!/usr/bin/env node
/**
 * Size of the main package, as WeChat counts it when "filter unused files" is on
 * (project.config.json: setting.ignoreUploadUnusedFiles): every file reachable from app.json
 * (pages, usingComponents, componentGenerics, require / import, <import> <include> <wxs>,
 * @import) that lies outside the subpackage roots. Files are counted as they are on disk, before
 * DevTools minifies them, so the figure errs on the large side.
 *
 * Fails (exit 1) when the main package is over MAIN_LIMIT (500 KB, our budget; WeChat's own limit
 * is 2 MB), a subpackage is over 2 MB, the whole is over 20 MB, or a referenced file is missing.
 * Run after `npm run build:npm` (miniprogram_npm/ must exist).
 */
const fs = require('fs');
const path = require('path');

let ROOT = path.resolve(__dirname, '..');
const KB = 1024;
const MAIN_LIMIT = 500 * KB;
const PACKAGE_LIMIT = 2048 * KB;
const TOTAL_LIMIT = 20 * 1024 * KB;

function rel(abs) {
  return path.relative(ROOT, abs).split(path.sep).join('/');
}

function exists(abs) {
  return fs.existsSync(abs) && fs.statSync(abs).isFile();
}

function readJson(abs) {
  return JSON.parse(fs.readFileSync(abs, 'utf8'));
}

/** A bare module name ("tslib", "tdesign-miniprogram/toast/index") the way WeChat resolves it. */
function resolveNpm(fromDir, spec) {
  let dir = fromDir;
  for (;;) {
    const base = path.join(dir, 'miniprogram_npm', spec);
    const found = [base, `${base}.js`, path.join(base, 'index.js')].find(exists);
    if (found) return found;
    if (path.resolve(dir) === ROOT) return null;
    dir = path.dirname(dir);
  }
}

/** A path in a require / import / src attribute. */
function resolveFile(fromFile, spec, exts) {
  const fromDir = path.dirname(fromFile);
  if (!spec.startsWith('.') && !spec.startsWith('/')) {
    return exts.indexOf('.js') >= 0 ? resolveNpm(fromDir, spec) : null;
  }
  const base = spec.startsWith('/') ? path.join(ROOT, spec) : path.join(fromDir, spec);
  const candidates = [base].concat(exts.map((e) => base + e)).concat(exts.map((e) => path.join(base, `index${e}`)));
  return candidates.find(exists) || null;
}

/** A usingComponents value -> the component's base path (without extension). */
function resolveComponent(fromFile, spec) {
  const fromDir = path.dirname(fromFile);
  if (spec.startsWith('plugin://')) return null;
  let base;
  if (spec.startsWith('/')) base = path.join(ROOT, spec);
  else if (spec.startsWith('.')) base = path.join(fromDir, spec);
  else {
    const js = resolveNpm(fromDir, spec);
    base = js ? js.replace(/\.js$/, '') : path.join(ROOT, 'miniprogram_npm', spec);
  }
  if (exists(`${base}.json`)) return base;
  if (exists(path.join(base, 'index.json'))) return path.join(base, 'index');
  return { missing: spec };
}

const PATTERNS = {
  '.js': [/require\(\s*['"]([^'"]+)['"]\s*\)/g, /\bimport\s*(?:[^'"()]*?\bfrom\s*)?['"]([^'"]+)['"]/g, /\bexport\s*[^'"();]*?\bfrom\s*['"]([^'"]+)['"]/g],
  '.wxs': [/require\(\s*['"]([^'"]+)['"]\s*\)/g],
  '.wxml': [/<(?:import|include|wxs)\b[^>]*\bsrc\s*=\s*['"]([^'"]+)['"]/g],
  '.wxss': [/@import\s+(?:url\()?\s*['"]([^'"]+)['"]/g],
};
const RESOLVE_EXTS = { '.js': ['.js'], '.wxs': ['.wxs'], '.wxml': ['.wxml'], '.wxss': ['.wxss'] };

function walk(starts) {
  const seen = new Set();
  const missing = [];
  const stack = starts.slice();

  function addComponent(fromFile, spec) {
    const base = resolveComponent(fromFile, spec);
    if (!base) return;
    if (base.missing) {
      missing.push(`${rel(fromFile)}: component "${spec}"`);
      return;
    }
    ['.json', '.js', '.wxml'].forEach((ext) => {
      if (exists(base + ext)) stack.push(base + ext);
      else missing.push(`${rel(fromFile)}: ${rel(base + ext)}`);
    });
    if (exists(`${base}.wxss`)) stack.push(`${base}.wxss`);
  }

  while (stack.length) {
    const file = stack.pop();
    if (seen.has(file)) continue;
    seen.add(file);
    const ext = path.extname(file);
    if (ext === '.json') {
      const json = readJson(file);
      Object.values(json.usingComponents || {}).forEach((spec) => addComponent(file, spec));
      Object.values(json.componentGenerics || {}).forEach((g) => {
        if (g && typeof g === 'object' && g.default) addComponent(file, g.default);
      });
      continue;
    }
    const text = fs.readFileSync(file, 'utf8');
    (PATTERNS[ext] || []).forEach((re) => {
      re.lastIndex = 0;
      let m;
      while ((m = re.exec(text))) {
        const target = resolveFile(file, m[1], RESOLVE_EXTS[ext]);
        if (target) stack.push(target);
        else missing.push(`${rel(file)}: "${m[1]}"`);
      }
    });
  }
  return { files: seen, missing };
}

function pageFiles(page) {
  const base = path.join(ROOT, page);
  return ['.js', '.json', '.wxml', '.wxss'].map((e) => base + e).filter((f) => exists(f) || !f.endsWith('.wxss'));
}

function measure(root) {
  if (root) ROOT = path.resolve(root);
  const app = readJson(path.join(ROOT, 'app.json'));
  const subs = (app.subpackages || app.subPackages || []).map((s) => ({
    name: s.name || s.root,
    root: s.root.replace(/\/+$/, ''),
    pages: s.pages.map((p) => `${s.root.replace(/\/+$/, '')}/${p}`),
  }));
  const starts = ['app.js', 'app.json', 'app.wxss', app.sitemapLocation || 'sitemap.json']
    .map((f) => path.join(ROOT, f))
    .filter(exists);
  app.pages.forEach((p) => starts.push(...pageFiles(p)));
  subs.forEach((s) => s.pages.forEach((p) => starts.push(...pageFiles(p))));
  const { files, missing } = walk(starts);
  starts.filter((f) => !exists(f)).forEach((f) => missing.push(`app.json: ${rel(f)}`));

  const owner = (file) => {
    const r = rel(file);
    const sub = subs.find((s) => r === s.root || r.startsWith(`${s.root}/`));
    return sub ? sub.name : 'main';
  };
  const packages = { main: { bytes: 0, groups: {}, files: [] } };
  subs.forEach((s) => (packages[s.name] = { bytes: 0, groups: {}, files: [] }));
  files.forEach((file) => {
    if (!exists(file)) return;
    const bytes = fs.statSync(file).size;
    const pkg = packages[owner(file)];
    pkg.bytes += bytes;
    pkg.files.push(rel(file));
    const parts = rel(file).split('/');
    const group = parts[0] === 'miniprogram_npm' ? parts.slice(0, 3).join('/') : parts.length > 1 ? parts.slice(0, 2).join('/') : parts[0];
    pkg.groups[group] = (pkg.groups[group] || 0) + bytes;
  });
  return { packages, missing: Array.from(new Set(missing)) };
}

function kb(bytes) {
  return `${(bytes / KB).toFixed(1)} KB`;
}

/** What is wrong with a measurement: over a limit, or a referenced file missing. */
function problemsOf({ packages, missing }) {
  const total = Object.values(packages).reduce((a, p) => a + p.bytes, 0);
  const problems = [];
  Object.entries(packages)
    .filter(([name]) => name !== 'main')
    .forEach(([name, p]) => {
      if (p.bytes > PACKAGE_LIMIT) problems.push(`subpackage ${name} is ${kb(p.bytes)}, over ${kb(PACKAGE_LIMIT)}`);
    });
  if (packages.main.bytes > MAIN_LIMIT) problems.push(`main package is ${kb(packages.main.bytes)}, over the ${kb(MAIN_LIMIT)} budget`);
  if (total > TOTAL_LIMIT) problems.push(`all packages together are ${kb(total)}, over ${kb(TOTAL_LIMIT)}`);
  missing.forEach((m) => problems.push(`missing: ${m}`));
  return problems;
}

function main() {
  if (!fs.existsSync(path.join(ROOT, 'miniprogram_npm'))) {
    console.error('miniprogram_npm/ is missing: run `npm run build:npm` first');
    process.exit(1);
  }
  const measured = measure();
  const { packages } = measured;
  const total = Object.values(packages).reduce((a, p) => a + p.bytes, 0);
  console.log(`main package: ${kb(packages.main.bytes)} (${packages.main.bytes} bytes; budget ${kb(MAIN_LIMIT)}, WeChat's limit 2048 KB)`);
  Object.entries(packages.main.groups)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 12)
    .forEach(([group, bytes]) => console.log(`  ${kb(bytes).padStart(10)}  ${group}`));
  Object.entries(packages)
    .filter(([name]) => name !== 'main')
    .forEach(([name, p]) => console.log(`subpackage ${name}: ${kb(p.bytes)}`));
  console.log(`all packages: ${kb(total)}`);
  const problems = problemsOf(measured);
  if (problems.length) {
    problems.forEach((p) => console.error(`SIZE CHECK FAILED: ${p}`));
    process.exit(1);
  }
  console.log('size check passed');
}

if (require.main === module) main();

module.exports = { measure, problemsOf, MAIN_LIMIT };
