import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CompactSign, exportJWK, exportPKCS8, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { startKeyServer, type KeyServer } from './jwks-server.js';

/** The HMAC secret most scenarios verify with. */
/** 64 bytes: long enough for HS512 (RFC 7518 §3.2). */
export const HS_SECRET = 'conformance-secret-of-sixty-four-bytes-so-hs512-is-allowed-too!!';
const hsKey = new TextEncoder().encode(HS_SECRET);

export interface KeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** Asymmetric keys, made once per test file. */
export interface Keys {
  rs: KeyPair;
  rsOther: KeyPair;
  rsPublicPem: string;
  /** The same RSA private key, unbound to a hash, to sign RS384/RS512. */
  rsPrivateKeyObject: KeyObject;
  ps: KeyPair;
  es: KeyPair;
  esPublicJwk: JWK;
  /** P-521, for ES512. */
  es512: KeyPair;
  ed: KeyPair;
  edPublicKeyObject: KeyObject;
  edPrivateKeyObject: KeyObject;
  /** A JWK Set server on 127.0.0.1 that publishes `esPublicJwk` as kid `ec-remote`. */
  jwksUri: string;
  /** A loopback URL where nothing listens: the key server is down. */
  deadJwksUri: string;
  /**
   * On the same key server: a set with one key per algorithm family (`rs-remote`: the `rs` key
   * without `alg`, for RS* and PS*; `es512-remote`; `ed-remote`; and `ec-remote`).
   */
  familiesJwksUri: string;
  /** On the same key server: a JWK Set path that answers 500. */
  brokenJwksUri: string;
  /** An issuer on the same key server whose OpenID metadata names `jwksUri`. */
  discoveryIssuer: string;
  /** An issuer on the same key server, for `issuers`, whose keys are at `jwksUri`. */
  tenantIssuer: string;
  /** The key server itself. */
  keyServer: KeyServer;
  close(): Promise<void>;
}

async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export async function makeKeys(): Promise<Keys> {
  const rs = await generateKeyPair('RS256', { extractable: true });
  const ps = await generateKeyPair('PS256', { extractable: true });
  const es = await generateKeyPair('ES256', { extractable: true });
  const ed = await generateKeyPair('EdDSA', { extractable: true });
  const edNode = generateKeyPairSync('ed25519');
  const es512 = await generateKeyPair('ES512', { extractable: true });
  const esPublicJwk = await exportJWK(es.publicKey);
  const ecRemote: JWK = { ...esPublicJwk, kid: 'ec-remote', alg: 'ES256', use: 'sig' };
  const jwks = await startKeyServer();
  jwks.setKeys([ecRemote], '/.well-known/jwks.json');
  jwks.setKeys(
    [
      { ...(await exportJWK(rs.publicKey)), kid: 'rs-remote' },
      { ...(await exportJWK(es512.publicKey)), kid: 'es512-remote', alg: 'ES512', use: 'sig' },
      { ...(await exportJWK(ed.publicKey)), kid: 'ed-remote', alg: 'EdDSA' },
      ecRemote,
    ],
    '/families/jwks.json',
  );
  jwks.setKeys([ecRemote], '/broken/jwks.json');
  await jwks.setMode('500', '/broken/jwks.json');
  const discoveryIssuer = `${jwks.url}/issuer`;
  jwks.setDocument('/issuer/.well-known/openid-configuration', {
    issuer: discoveryIssuer,
    jwks_uri: `${jwks.url}/.well-known/jwks.json`,
  });
  const dead = await serve((_req, res) => res.end());
  await dead.close();
  return {
    rs,
    rsOther: await generateKeyPair('RS256'),
    rsPublicPem: await exportSPKI(rs.publicKey),
    rsPrivateKeyObject: createPrivateKey(await exportPKCS8(rs.privateKey)),
    ps,
    es,
    esPublicJwk,
    es512,
    ed,
    edPublicKeyObject: createPublicKey(edNode.privateKey),
    edPrivateKeyObject: edNode.privateKey,
    jwksUri: `${jwks.url}/.well-known/jwks.json`,
    deadJwksUri: `${dead.url}/.well-known/jwks.json`,
    familiesJwksUri: `${jwks.url}/families/jwks.json`,
    brokenJwksUri: `${jwks.url}/broken/jwks.json`,
    discoveryIssuer,
    tenantIssuer: `${jwks.url}/tenant-a`,
    keyServer: jwks,
    close: () => jwks.close(),
  };
}

export const now = () => Math.floor(Date.now() / 1000);

export interface SignOptions {
  alg?: string;
  key?: CryptoKey | KeyObject | Uint8Array;
  header?: Record<string, unknown>;
  /** Omit `iat`/`exp` defaults. */
  bare?: boolean;
}

/** Signs `claims` (HS256 with {@link HS_SECRET} unless told otherwise), valid for five minutes. */
export function sign(claims: JWTPayload & Record<string, unknown>, options: SignOptions = {}): Promise<string> {
  const alg = options.alg ?? 'HS256';
  const defaults = options.bare ? {} : { iat: now(), exp: now() + 300 };
  return new SignJWT({ sub: 'user-1', ...defaults, ...claims }).setProtectedHeader({ alg, ...options.header }).sign(options.key ?? hsKey);
}

const b64url = (value: string | Uint8Array) => Buffer.from(typeof value === 'string' ? Buffer.from(value) : value).toString('base64url');

/** Signs a payload given as JSON text (HS256 with {@link HS_SECRET}), for claims an object cannot hold, such as an own `__proto__`. */
export function signRaw(payload: string): Promise<string> {
  return new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'HS256' }).sign(hsKey);
}

/** A compact JWS assembled by hand, for tokens jose refuses to make. */
export function rawToken(header: unknown, payload: unknown, signature = ''): string {
  return `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}.${signature}`;
}

/** An HS256 token whose HMAC key is the text of a public key: the classic key-confusion attack. */
export function signWithText(claims: JWTPayload, text: string): Promise<string> {
  return new SignJWT({ sub: 'user-1', iat: now(), exp: now() + 300, ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode(text));
}
