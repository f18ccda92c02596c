/**
 * The real backend for the integration test, started the way `make run` starts it on the
 * embedded default (SQLite + embedded redis-server) in a temporary VAR_DIR:
 *   python -m backend migrate; python -m backend demo seed --scale small;
 *   python -m backend serve --port <free> --worker   (SMS_CHANNEL=dev)
 * DATABASE_URL and REDIS_URL are removed from its environment so nothing outside the temporary
 * directory is touched. The Python venv is the repository's .venv (`make install`).
 */
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const path = require('path');

const REPO = path.resolve(__dirname, '../../..');
const PYTHON = path.join(REPO, '.venv', 'bin', 'python');

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

function environment(varDir) {
  const env = Object.assign({}, process.env, { VAR_DIR: varDir, SMS_CHANNEL: 'dev', APP_ENV: 'development' });
  delete env.DATABASE_URL;
  delete env.REDIS_URL;
  return env;
}

async function waitHealthy(url, child, log, deadlineMs) {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`backend exited with ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/healthz`);
      if (res.status === 200) return;
    } catch (e) {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`backend not healthy after ${deadlineMs} ms:\n${log()}`);
    await new Promise((r) => setTimeout(r, 200)); // waiting for another process to start: the only real wait
  }
}

async function start() {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run \`make install\` in ${REPO} first`);
  const varDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cwt-mp-it-'));
  const env = environment(varDir);
  const run = (args) => execFileSync(PYTHON, ['-m', 'backend'].concat(args), { cwd: REPO, env, stdio: 'pipe' });
  run(['migrate']);
  run(['demo', 'seed', '--scale', 'small']);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child = spawn(PYTHON, ['-m', 'backend', 'serve', '--port', String(port), '--worker'], { cwd: REPO, env });
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  await waitHealthy(url, child, () => output.slice(-4000), 60000);
  const accounts = JSON.parse(fs.readFileSync(path.join(varDir, 'demo-accounts.json'), 'utf8')).demo_accounts;
  return {
    url,
    varDir,
    log: () => output,
    password: (username) => accounts.find((a) => a.username === username).password,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(varDir, { recursive: true, force: true });
    },
    /** `python -m backend <args>` (or `python <args>` with python: true) in this server's VAR_DIR; its stdout. */
    run(args, options) {
      const argv = options && options.python ? args : ['-m', 'backend'].concat(args);
      return execFileSync(PYTHON, argv, { cwd: REPO, env, stdio: 'pipe' }).toString('utf8');
    },
    /** Development hooks of the backend (never in production). */
    async captchaAnswer(captchaId) {
      const res = await fetch(`${url}/api/dev/captcha/${encodeURIComponent(captchaId)}`);
      return (await res.json()).answer;
    },
    async sms(phone) {
      const res = await fetch(`${url}/api/dev/sms?phone=${phone}`);
      return (await res.json()).messages; // newest first
    },
    async latestCode(phone) {
      const message = (await this.sms(phone)).find((m) => m.template.startsWith('code_'));
      const found = message && /验证码为\s*([0-9]{6})/.exec(message.text);
      if (!found) throw new Error(`no verification code for ${phone}`);
      return found[1];
    },
  };
}

module.exports = { start, REPO };
