import { request as httpRequest } from 'node:http';
import type { Send } from '../cases.js';
import { honoHarness } from '../harness/hono.js';
import { headersOf } from '../harness/types.js';

/** What a client can observe of an answer (the fields test/conformance.test.ts compares). */
export interface Observed {
  status: number;
  contentType: string | null;
  challenge: string | null;
  retryAfter: string | null;
  contentLength: string | null;
  dpopNonce: string | null;
  body: unknown;
}

const one = (value: string | string[] | undefined): string | null => (Array.isArray(value) ? value.join(', ') : (value ?? null));

/**
 * Sends a case's request over HTTP/1.1 with node:http, which sends an array header value as that
 * many header lines (two `Authorization` headers are a case of their own), and reads the answer.
 */
export async function perform(url: string, sent: Send): Promise<Observed> {
  // Signed cookies signed the way Hono signs them (hono/cookie).
  const headers = await headersOf(honoHarness, sent);
  // As supertest does: a body goes with its length (a GET is not chunked by default).
  if (sent.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(sent.body));
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ hostname, port, method: sent.method ?? 'GET', path: sent.path ?? '/protected', headers, timeout: 10000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => {
        let body: unknown = null;
        if (text !== '') {
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
          }
        }
        resolve({
          status: res.statusCode ?? 0,
          contentType: one(res.headers['content-type']),
          challenge: one(res.headers['www-authenticate']),
          retryAfter: one(res.headers['retry-after']),
          contentLength: one(res.headers['content-length']),
          dpopNonce: one(res.headers['dpop-nonce']),
          body,
        });
      });
    });
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url} within 10 s`)));
    req.once('error', reject);
    req.end(sent.body);
  });
}
