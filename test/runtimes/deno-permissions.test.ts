/**
 * Deno allowed to listen on its own port only (`--allow-net=127.0.0.1:<port>`), configured with a
 * remote JWK Set on another port: the fetch is refused by Deno's permissions (`NotCapable`), not
 * by the network. The answer stays the contract's 503 key_unavailable; the `jwks.fetch` event and
 * the AuthError's cause say that permission was denied, so an operator is not left guessing.
 */
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESCRIPTIONS } from '../cases.js';
import { freePort } from '../e2e-support.js';
import { startKeyServer, type KeyServer } from '../jwks-server.js';
import { perform } from './http.js';
import type { PermissionLine } from './apps.js';
import { startRuntime, type RunningRuntime } from './spawn-runtime.js';

let keyServer: KeyServer;
let deno: RunningRuntime;
let token: string;

beforeAll(async () => {
  keyServer = await startKeyServer();
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  keyServer.setKeys([{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }]);
  token = await new SignJWT({ sub: 'u1' }).setProtectedHeader({ alg: 'ES256', kid: 'k1' }).setIssuedAt().setExpirationTime('5m').sign(privateKey);
  const port = await freePort();
  deno = await startRuntime('deno', { mode: 'permission', jwksUri: keyServer.jwksUri, port }, { allowNet: `127.0.0.1:${port}` });
}, 60000);

afterAll(async () => {
  await deno?.close();
  await keyServer?.close();
});

const url = () => `http://127.0.0.1:${deno.ports.permission}`;

/** The printed lines, once `count` of them match `which` (the event is emitted before the answer, but stdout is read apart). */
async function linesWhere(which: (line: PermissionLine) => boolean, count = 1): Promise<PermissionLine[]> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const found = (deno.lines as PermissionLine[]).filter(which);
    if (found.length >= count || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const KEY_UNAVAILABLE = { error: 'temporarily_unavailable', error_description: DESCRIPTIONS.key_unavailable, code: 'key_unavailable' };
const DENIED =
  /^the JWK Set http:\/\/127\.0\.0\.1:\d+\/jwks\.json may not be fetched: permission denied by the runtime \(Deno: --allow-net\) \(Requires net access to "127\.0\.0\.1:\d+"/;

describe('Deno without --allow-net for the JWK Set host', () => {
  it('answers the contract 503 key_unavailable with Retry-After and no challenge', async () => {
    const seen = await perform(url(), { headers: { Authorization: `Bearer ${token}` } });
    expect(seen).toMatchObject({ status: 503, challenge: null, retryAfter: '5', contentType: 'application/json', body: KEY_UNAVAILABLE });
    expect(keyServer.count(), 'the request never left Deno').toBe(0);
  });

  it('reports a jwks.fetch event whose cause is permission_denied and whose reason says so', async () => {
    const [line] = await linesWhere((l) => l.event?.type === 'jwks.fetch');
    expect(line?.event).toMatchObject({ outcome: 'failed', cause: 'permission_denied' });
    expect(line?.event?.reason).toMatch(DENIED);
  });

  it('gives the forwarded AuthError a cause that says permission was denied', async () => {
    const seen = await perform(url(), { path: '/forwarded', headers: { Authorization: `Bearer ${token}` } });
    expect(seen.status).toBe(503);
    const [line] = await linesWhere((l) => l.authError !== undefined);
    expect(line?.authError?.code).toBe('key_unavailable');
    expect(line?.authError?.cause).toMatch(new RegExp(`^KeysUnavailable: ${DENIED.source.slice(1)}`));
  });
});
