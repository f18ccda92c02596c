#!/usr/bin/env node
/**
 * What WeChat DevTools' "Tools > Build npm" does for this project, so tests and the size check
 * see the same miniprogram_npm/ the DevTools build makes: every runtime dependency that declares
 * a "miniprogram" directory is copied to miniprogram_npm/<name>/ (its own nested miniprogram_npm
 * included). DevTools users may run either; the result is the same tree.
 */
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'miniprogram_npm');

function build() {
  const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
  fs.rmSync(out, { recursive: true, force: true });
  const built = [];
  for (const name of Object.keys(pkg.dependencies || {})) {
    const dir = path.join(root, 'node_modules', name);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    if (!meta.miniprogram) throw new Error(`${name} has no "miniprogram" directory: not a mini-program package`);
    fs.cpSync(path.join(dir, meta.miniprogram), path.join(out, name), { recursive: true });
    built.push(`${name}@${meta.version}`);
  }
  return built;
}

if (require.main === module) {
  console.log(`miniprogram_npm/: ${build().join(', ')}`);
}

module.exports = { build };
