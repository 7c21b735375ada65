// Test support (not part of the package): the endpoints behind a real node:http server on
// 127.0.0.1, playing the framework: it parses JSON and urlencoded bodies, and trusts an
// X-Forwarded-For header for the client address (as a framework behind a proxy would).
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TokenEndpoints } from '@jwtauth/core';

export interface TestServer {
  url: string;
  close(): Promise<void>;
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  const type = request.headers['content-type'] ?? '';
  if (type.startsWith('application/json')) return JSON.parse(text) as unknown;
  if (type.startsWith('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  // A framework with a raw-body parser hands over bytes.
  return text === '' ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** Every `DPoP` header line, as the adapters read them from Node's raw headers. */
function dpopLines(rawHeaders: readonly string[]): string[] {
  const lines: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === 'dpop') lines.push(rawHeaders[i + 1]!);
  return lines;
}

export async function serve(endpoints: TokenEndpoints<IncomingMessage>): Promise<TestServer> {
  const server = createServer((request, response) => {
    void (async () => {
      let body: unknown;
      try {
        body = await readBody(request);
      } catch {
        response.writeHead(400, { 'Content-Type': 'application/json' }).end('{"error":"invalid_request","code":"invalid_json"}');
        return;
      }
      const forwarded = request.headers['x-forwarded-for'];
      const answer = await endpoints.handle({
        method: request.method ?? 'GET',
        path: (request.url ?? '/').split('?', 1)[0]!.replace(/^\/api/, ''),
        query: (request.url ?? '').includes('?') ? (request.url ?? '').slice((request.url ?? '').indexOf('?') + 1) : '',
        body,
        contentType: request.headers['content-type'],
        cookie: request.headers.cookie,
        address: typeof forwarded === 'string' ? forwarded : request.socket.remoteAddress,
        dpop: dpopLines(request.rawHeaders),
        url: `http://${request.headers.host}${request.url}`,
        request,
      });
      if (answer === undefined) {
        response.writeHead(404, { 'Content-Type': 'application/json' }).end('{"error":"not_found","code":"not_found"}');
        return;
      }
      response.writeHead(answer.status, answer.headers).end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    })().catch((error: unknown) => {
      response.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** POSTs `body` (JSON unless it is a URLSearchParams) and reads the answer. */
export async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const form = body instanceof URLSearchParams;
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': form ? 'application/x-www-form-urlencoded' : 'application/json', ...headers },
    body: form ? body.toString() : typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) };
}
