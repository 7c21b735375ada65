import { connect } from 'node:net';

/** One request written byte for byte: what Node's HTTP client would refuse to send is sent as is. */
export interface RawRequest {
  /** The request target: path and query, written unencoded. */
  target: string;
  /** Header lines in order; a name may repeat. Each string is written as latin1 bytes. */
  headers: ReadonlyArray<readonly [name: string, value: string]>;
}

/** What came back: the status, the headers (lower-case names, every value) and the body. */
export interface RawResponse {
  status: number;
  headers: Record<string, string[]>;
  body: string;
}

/** The request's bytes, latin1: every code unit of `target` and the header strings is one byte. */
export function requestBytes(host: string, request: RawRequest): Buffer {
  const lines = [`GET ${request.target} HTTP/1.1`, `Host: ${host}`];
  for (const [name, value] of request.headers) lines.push(`${name}: ${value}`);
  lines.push('Connection: close', '', '');
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

function decodeChunked(body: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const end = body.indexOf('\r\n', at);
    if (end === -1) throw new Error('truncated chunked body');
    const size = Number.parseInt(body.subarray(at, end).toString('latin1'), 16);
    if (!Number.isInteger(size)) throw new Error('bad chunk size');
    if (size === 0) return Buffer.concat(parts);
    parts.push(body.subarray(end + 2, end + 2 + size));
    at = end + 2 + size + 2;
  }
}

function parseResponse(raw: Buffer): RawResponse {
  const split = raw.indexOf('\r\n\r\n');
  if (split === -1) throw new Error(`no complete response head in ${JSON.stringify(raw.toString('latin1').slice(0, 200))}`);
  const [statusLine, ...headerLines] = raw.subarray(0, split).toString('latin1').split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(statusLine!);
  if (status === null) throw new Error(`bad status line ${JSON.stringify(statusLine)}`);
  const headers: Record<string, string[]> = {};
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    (headers[name] ??= []).push(line.slice(colon + 1).trim());
  }
  let body = raw.subarray(split + 4);
  if (headers['transfer-encoding']?.[0]?.toLowerCase() === 'chunked') body = decodeChunked(body);
  return { status: Number(status[1]), headers, body: body.toString('utf8') };
}

/**
 * Sends `request` to `url` over a fresh socket (`Connection: close`) and reads the whole answer.
 * Rejects when the server resets the connection, closes it without a complete answer, or has not
 * finished within `timeoutMs`: a hang is a failure, not a wait.
 */
export function sendRaw(url: string, request: RawRequest, timeoutMs = 5000): Promise<RawResponse> {
  const { hostname, port, host } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on('end', () => {
      clearTimeout(timer);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (error) {
        reject(error);
      }
    });
    // write, not end: a half-closed socket could look like a client that went away.
    socket.write(requestBytes(host, request));
  });
}
