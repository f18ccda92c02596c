/**
 * The office PC's side for the integration tests, played by the test itself (docs/card-protocol.md):
 * an Ed25519 device key with Node's crypto, the signed-request headers, enrolment, pairings and
 * their long-poll, and a software card (a certificate from the demo issuer CA, issued by the
 * repository's card_service/fakes/card_ca.py) that signs the server's challenge.
 */
const crypto = require('crypto');

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest();
const b64url = (bytes) => Buffer.from(bytes).toString('base64url');

/** The card service's key and its signed calls: { status, body }. */
function createPc(server, hostname) {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x, 'base64url');
  const hash = sha256(raw);
  const deviceId = b64url(hash).slice(0, 32);
  const fingerprint = hash.toString('hex').slice(0, 16).toUpperCase().match(/.{4}/g).join('-');

  async function call(method, path, body) {
    const bytes = body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(body), 'utf8');
    const timestamp = Math.floor(Date.now() / 1000);
    const nonce = b64url(crypto.randomBytes(18));
    const payload = ['CWT-DEVICE-1', method, path, sha256(bytes).toString('hex'), timestamp, nonce].join('\n');
    const headers = {
      'X-Device-Id': deviceId,
      'X-Device-Timestamp': String(timestamp),
      'X-Device-Nonce': nonce,
      'X-Device-Signature': b64url(crypto.sign(null, Buffer.from(payload, 'utf8'), privateKey)),
    };
    if (bytes.length) headers['Content-Type'] = 'application/json';
    const res = await fetch(server.url + path, { method, headers, body: bytes.length ? bytes : undefined });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  }

  return {
    deviceId,
    fingerprint,
    call,
    enrol: () => call('POST', '/api/devices/enrolments', { public_key: b64url(raw), hostname }),
    self: () => call('GET', '/api/devices/self'),
    pair: (action) => call('POST', '/api/pairings', { action }),
    events: (id, since, wait) => call('GET', `/api/pairings/${id}/events?since=${since}&wait=${wait}`),
    challenge: (id) => call('POST', `/api/pairings/${id}/challenge`),
    card: (id, answer) => call('POST', `/api/pairings/${id}/card`, answer),
  };
}

const ISSUE_CARD = `
import argparse, base64, json, shlex, sys
from pathlib import Path
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from card_service.fakes.card_ca import CardAuthority, CardIdentity
parser = argparse.ArgumentParser()
for name in ("ca-dir", "card-number", "holder", "id-number", "unit-name", "credit-code", "kind"):
    parser.add_argument("--" + name)
a = parser.parse_args(shlex.split(sys.argv[1]))
key = ec.generate_private_key(ec.SECP256R1())
identity = CardIdentity(a.card_number, a.holder, a.id_number, a.unit_name, a.credit_code, a.kind)
certificate = CardAuthority.load(Path(a.ca_dir)).issue(identity, key.public_key())
pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
print(json.dumps({"key": pem.decode(), "certificate": base64.b64encode(certificate.public_bytes(serialization.Encoding.DER)).decode(), "card_number": a.card_number, "holder": a.holder}))
`;

/**
 * A software card for the demo's first co-op under 白沙镇 (`python -m backend demo card`), with
 * its key here: answer(challenge) is what the card service sends after the PIN.
 */
function demoCard(server, kind) {
  const args = server.run(['demo', 'card', '--kind', kind]).trim();
  const card = JSON.parse(server.run(['-c', ISSUE_CARD, args], { python: true }));
  return {
    number: card.card_number,
    holder: card.holder,
    answer: (challenge) => ({
      nonce: challenge.nonce,
      certificate: card.certificate,
      chain: [],
      signature: crypto.sign('sha256', Buffer.from(challenge.to_sign, 'base64url'), card.key).toString('base64'),
    }),
  };
}

module.exports = { createPc, demoCard };
