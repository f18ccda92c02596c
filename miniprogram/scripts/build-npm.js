#!/usr/bin/env node
/**
 * What WeChat DevTools' "Tools > Build npm" does for this project, so tests and the size check
 * see the same tree: for every entry of setting.packNpmRelationList in project.config.json,
 * each runtime dependency of that package.json that declares a "miniprogram" directory is copied
 * to <miniprogramNpmDistDir>/miniprogram_npm/<name>/ (its own nested miniprogram_npm included).
 *
 * Two entries here: the project root (the main package's components) and packageHeavy/, so the
 * heavy subpackage takes the TDesign components only it uses (t-qrcode) from its own copy instead
 * of weighing on the main package. Uploads keep only the files in use (ignoreUploadUnusedFiles).
 */
const fs = require('fs');
const path = require('path');

const root = path.resolve(__dirname, '..');

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function build() {
  const project = readJson(path.join(root, 'project.config.json'));
  const relations = (project.setting && project.setting.packNpmRelationList) || [
    { packageJsonPath: './package.json', miniprogramNpmDistDir: './' },
  ];
  const built = [];
  relations.forEach((relation) => {
    const pkgFile = path.join(root, relation.packageJsonPath);
    const pkg = readJson(pkgFile);
    const out = path.join(root, relation.miniprogramNpmDistDir, 'miniprogram_npm');
    fs.rmSync(out, { recursive: true, force: true });
    Object.keys(pkg.dependencies || {}).forEach((name) => {
      const dir = path.join(path.dirname(pkgFile), 'node_modules', name);
      const meta = readJson(path.join(dir, 'package.json'));
      if (!meta.miniprogram) throw new Error(`${name} has no "miniprogram" directory: not a mini-program package`);
      fs.cpSync(path.join(dir, meta.miniprogram), path.join(out, name), { recursive: true });
      built.push(`${path.relative(root, out) || '.'}/${name}@${meta.version}`);
    });
  });
  return built;
}

if (require.main === module) {
  console.log(`built npm: ${build().join(', ')}`);
}

module.exports = { build };
