import { badRequest, notFound, type Answer } from './answer.js';

/** What {@link requestProblem} reads of a Node request (`IncomingMessage`). */
export interface RequestHead {
  httpVersion: string;
  url?: string | undefined;
  rawHeaders: readonly string[];
}

/**
 * Why a request must be refused before any routing, or `undefined` when it may go on. Every
 * server runs this first, because their routers and Node adapters disagree on such requests:
 * Fastify refuses a malformed `%` escape in its own error format, Hono's Node adapter refuses an
 * odd `Host` or request target with an empty 400, and Fastify and Hono decode `%68` and resolve
 * `/./` and `/../` where Express and Koa match the path as sent. Here all four answer alike:
 *
 * - 400 `bad_request`: a `Transfer-Encoding` whose last coding is not `chunked` (the body's length
 *   cannot be known); an HTTP/1.1 request without exactly one `Host` header, or with a `Host` that
 *   is not a host name or address with an optional port (RFC 9112 §3.2); a request target that is
 *   neither a path (`/…`) nor an absolute `http(s)://` URL (`*`, `host:port`); a path with a
 *   backslash, a `%` not followed by two hex digits, or escapes that are not UTF-8.
 * - 404 `not_found`: a path with `%` escapes or `.`/`..` segments. Every route of this API is plain
 *   ASCII, so such a path names none of them, whichever way a framework would decode it.
 */
export function requestProblem(request: RequestHead): Answer | undefined {
  const hosts: string[] = [];
  const codings: string[] = [];
  for (let i = 0; i < request.rawHeaders.length; i += 2) {
    const name = request.rawHeaders[i]!.toLowerCase();
    if (name === 'host') hosts.push(request.rawHeaders[i + 1]!);
    else if (name === 'transfer-encoding') codings.push(...request.rawHeaders[i + 1]!.split(','));
  }
  // Node hands such a request to the app and then reports it as a client error too; answering it
  // here with the same text as answerClientError() gives one answer whichever comes first.
  if (codings.length > 0 && codings.at(-1)!.trim().toLowerCase() !== 'chunked') return badRequest('The request is not valid HTTP/1.1');

  const needsHost = request.httpVersion !== '1.0' && request.httpVersion !== '0.9';
  if (hosts.length > 1 || (hosts.length === 0 && needsHost) || (hosts.length === 1 && !isHost(hosts[0]!))) {
    return badRequest('The request must have one Host header naming a host and an optional port');
  }

  const path = pathOf(request.url ?? '');
  if (path === undefined || path.includes('\\') || !hasValidEscapes(path)) return badRequest('The request URL is malformed');
  if (path.includes('%') || /\/\.\.?(?:\/|$)/.test(path)) return notFound();
  return undefined;
}

const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(?::(\d{1,5}))?$/;

/** `uri-host [ ":" port ]`: a name, IPv4 or bracketed IPv6 address the URL parser accepts, and a port up to 65535. */
function isHost(value: string): boolean {
  const match = HOST.exec(value);
  if (match === null || (match[1] !== undefined && Number(match[1]) > 65535)) return false;
  try {
    new URL(`http://${value}/`);
    return true;
  } catch {
    return false;
  }
}

/** The path of a request target as sent (not decoded), or `undefined` for a target that has none. */
function pathOf(target: string): string | undefined {
  let rest = target;
  if (!target.startsWith('/')) {
    // Absolute form (what a client talking to a proxy sends): keep the path exactly as sent.
    const absolute = /^https?:\/\/[^/?#]*/.exec(target);
    if (absolute === null || !URL.canParse(target)) return undefined;
    rest = target.slice(absolute[0].length) || '/';
    if (!rest.startsWith('/')) rest = `/${rest}`;
  }
  const end = rest.search(/[?#]/);
  return end === -1 ? rest : rest.slice(0, end);
}

/** Every `%` starts an escape (`%` and two hex digits), and the escaped bytes are UTF-8. */
function hasValidEscapes(path: string): boolean {
  if (!path.includes('%')) return true;
  try {
    decodeURIComponent(path);
    return true;
  } catch {
    return false;
  }
}
