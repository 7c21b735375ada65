// DPoP (RFC 9449) over HTTP: server CPU per request of @jwtauth/express with `dpop` against
// express-oauth2-jwt-bearer with `dpop: { enabled: true }` (the one peer that offers DPoP), and
// against our own Bearer path, in the same run. Every request carries a fresh proof (a new jti:
// ours refuses a replayed one), made before the round by this process (the load generator), so the
// server only verifies. The server is a child process of this file; its CPU time (every thread)
// is read over IPC before and after each round, and rounds are interleaved across the cells.
// Run: pnpm --filter @jwtauth/bench bench:dpop (after pnpm build). Knobs: BENCH_REQUESTS per
// round (default 4000), BENCH_ROUNDS (3), BENCH_CONNECTIONS (10).
import { fork } from 'node:child_process';
import { createHash, createHmac, createPrivateKey, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const SECRET = 'bench-dpop-secret-that-is-long-enough-for-hs256';
const ISSUER = 'https://auth.example/';
const AUDIENCE = 'https://api.example';
const CELLS = ['ours-bearer', 'ours-dpop', 'peer-dpop'];
const LABEL = {
  'ours-bearer': '@jwtauth/express, Bearer',
  'ours-dpop': '@jwtauth/express, DPoP',
  'peer-dpop': 'express-oauth2-jwt-bearer, DPoP',
};

if (process.env.BENCH_DPOP_SERVER === '1') {
  await serve();
} else {
  await drive();
}

// ---- the server (child process) ---------------------------------------------------------------

async function serve() {
  const { default: express } = await import('express');
  const { jwtAuth } = await import('@jwtauth/express');
  const { auth } = await import('express-oauth2-jwt-bearer');
  const served = new Map();
  const ports = {};
  for (const cell of CELLS) {
    const app = express();
    const middleware =
      cell === 'peer-dpop'
        ? auth({ secret: SECRET, tokenSigningAlg: 'HS256', issuer: ISSUER, audience: AUDIENCE, dpop: { enabled: true } })
        : jwtAuth({ secret: SECRET, issuer: ISSUER, audience: AUDIENCE, ...(cell === 'ours-dpop' ? { dpop: { mode: 'allowed' } } : {}) });
    app.use(middleware);
    app.get('/orders', (req, res) => res.json({ sub: req.auth.payload.sub }));
    app.use((err, _req, res, _next) => res.status(err.status ?? 401).json({ error: 'unauthorized' }));
    const server = http.createServer(app);
    served.set(cell, 0);
    server.on('request', () => served.set(cell, served.get(cell) + 1));
    server.keepAliveTimeout = 60_000;
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    ports[cell] = server.address().port;
  }
  process.on('message', (message) => {
    if (message.op === 'snapshot') {
      const { user, system } = process.cpuUsage();
      process.send({ seq: message.seq, cpuMicros: user + system, served: served.get(message.cell) });
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true, ports });
}

// ---- the load generator -----------------------------------------------------------------------

async function drive() {
  const { default: autocannon } = await import('autocannon');
  const requests = Number(process.env.BENCH_REQUESTS ?? 4000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 10);
  const child = fork(fileURLToPath(import.meta.url), [], { env: { ...process.env, BENCH_DPOP_SERVER: '1' } });
  const { ports } = await new Promise((resolve) => child.once('message', resolve));
  let seq = 0;
  const snapshot = (cell) =>
    new Promise((resolve) => {
      const id = ++seq;
      const onMessage = (message) => {
        if (message.seq !== id) return;
        child.off('message', onMessage);
        resolve(message);
      };
      child.on('message', onMessage);
      child.send({ op: 'snapshot', seq: id, cell });
    });

  // The client's proof key (P-256) and its RFC 7638 thumbprint.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const publicJwk = { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  const jkt = createHash('sha256')
    .update(JSON.stringify({ crv: 'P-256', kty: 'EC', x: jwk.x, y: jwk.y }))
    .digest('base64url');
  const b64 = (value) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const hs256 = (payload) => {
    const input = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
    return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
  };
  const now = () => Math.floor(Date.now() / 1000);
  const claims = { sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: now(), exp: now() + 3600 };
  const bearerToken = hs256(claims);
  const boundToken = hs256({ ...claims, cnf: { jkt } });
  const ath = createHash('sha256').update(boundToken).digest('base64url');
  const proofHeader = b64({ alg: 'ES256', typ: 'dpop+jwt', jwk: publicJwk });
  const ecKey = createPrivateKey(privateKey.export({ format: 'pem', type: 'pkcs8' }));
  const proof = (htu) => {
    const input = `${proofHeader}.${b64({ jti: randomUUID(), htm: 'GET', htu, iat: now(), ath })}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: ecKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };

  const results = Object.fromEntries(CELLS.map((cell) => [cell, { cpu: 0, served: 0, seconds: 0, non2xx: 0 }]));
  // Round 0 warms every cell up (JIT, connection pools, key caches) and is not counted.
  for (let round = 0; round <= rounds; round++) {
    for (const cell of CELLS) {
      const url = `http://127.0.0.1:${ports[cell]}/orders`;
      const proofs = cell === 'ours-bearer' ? [] : Array.from({ length: requests }, () => proof(url));
      let next = 0;
      const before = await snapshot(cell);
      const run = await autocannon({
        url,
        connections,
        amount: requests,
        requests: [
          {
            setupRequest: (request) => ({
              ...request,
              headers:
                cell === 'ours-bearer'
                  ? { authorization: `Bearer ${bearerToken}` }
                  : { authorization: `DPoP ${boundToken}`, dpop: proofs[next++ % proofs.length] },
            }),
          },
        ],
      });
      const after = await snapshot(cell);
      if (round === 0) continue;
      const total = results[cell];
      total.cpu += after.cpuMicros - before.cpuMicros;
      total.served += after.served - before.served;
      total.seconds += run.duration;
      total.non2xx += run.non2xx;
    }
  }
  child.disconnect();

  const rows = CELLS.map((cell) => {
    const { cpu, served, seconds, non2xx } = results[cell];
    return { cell, cpuPerRequest: cpu / served, rps: served / seconds, non2xx };
  });
  const peer = rows.find((row) => row.cell === 'peer-dpop');
  const versions = (name) => JSON.parse(readPackage(name)).version;
  const lines = [
    '',
    `## ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — DPoP over HTTP (\`bench:dpop\`)`,
    '',
    `- Node ${process.version}; ${os.cpus()[0]?.model ?? 'CPU'}, ${os.cpus().length} cores; load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')}; express-oauth2-jwt-bearer ${versions('express-oauth2-jwt-bearer')}, Express ${versions('express')}.`,
    `- ${rounds} rounds × ${requests} requests per cell after a warm-up round, ${connections} connections; each DPoP request has a fresh ES256 proof (HS256 access token).`,
    '',
    '| cell | server CPU µs / request | requests / s | non-2xx | peer CPU / this CPU |',
    '|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| ${LABEL[row.cell]} | ${row.cpuPerRequest.toFixed(0)} | ${row.rps.toFixed(0)} | ${row.non2xx} | ${(peer.cpuPerRequest / row.cpuPerRequest).toFixed(2)}x |`,
    ),
    '',
  ];
  console.log(lines.join('\n'));
  if (process.env.BENCH_NO_RESULTS !== '1') appendFileSync(new URL('./RESULTS.md', import.meta.url), lines.join('\n'));
  for (const row of rows) if (row.non2xx > 0) throw new Error(`${row.cell}: ${row.non2xx} requests were refused; the figures are not comparable`);
}

function readPackage(name) {
  return readFileSync(new URL(`./node_modules/${name}/package.json`, import.meta.url), 'utf8');
}
