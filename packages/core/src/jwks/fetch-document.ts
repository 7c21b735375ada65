import type { Emit, KeySetFailureCause } from '../events.js';

/** The `fetch` a key set uses; the global one by default. */
export type FetchFunction = (input: string, init: RequestInit) => Promise<Response>;

/**
 * Keys could not be obtained: the set is unreachable, slow, serves something unusable, or was
 * last confirmed too long ago. It is the `cause` of the `key_unavailable` {@link AuthError}; its
 * message says what failed, and its own `cause` is the underlying error (the rejected `fetch`, the
 * JSON parse error, the previous failure during a backoff).
 */
export class KeysUnavailable extends Error {
  /** Always `'KeysUnavailable'`. */
  override readonly name = 'KeysUnavailable';
  /** Why the fetch failed, when this error is a failed fetch (see {@link KeySetFailureCause}). */
  readonly failure: KeySetFailureCause | undefined;
  /** The HTTP status the server answered, when it answered one. */
  readonly status: number | undefined;

  constructor(message: string, details: { cause?: unknown; failure?: KeySetFailureCause; status?: number } = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.failure = details.failure;
    this.status = details.status;
  }
}

/**
 * Keys must come over https: over plain http anyone on the path could hand out keys. Plain http
 * is allowed to loopback only (a sidecar, or tests).
 */
export function isTrustedScheme(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  if (url.protocol !== 'http:') return false;
  return url.hostname === 'localhost' || url.hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(url.hostname);
}

/** Key sets and metadata are a few KiB; anything larger is refused before it fills memory. */
export const MAX_DOCUMENT_BYTES = 512 * 1024;

/** What is fetched, for messages and events. */
export interface DocumentRequest {
  url: string;
  kind: 'jwks' | 'metadata';
  timeout: number;
  fetchImpl: FetchFunction;
  emit: Emit | undefined;
}

const LABEL = { jwks: 'the JWK Set', metadata: 'the issuer metadata' } as const;

/** Error codes (Node, Bun) and names (Deno) of failures to resolve a host name. */
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL', 'EAI_NODATA', 'DNSException', 'UND_ERR_DNS']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The error and its causes (and an AggregateError's errors), innermost last, at most a few deep. */
function chain(error: unknown): { name?: unknown; code?: unknown; message?: unknown }[] {
  const seen: { name?: unknown; code?: unknown; message?: unknown; cause?: unknown; errors?: unknown }[] = [];
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && seen.length < 6 && !seen.includes(current)) {
    const entry = current as (typeof seen)[number];
    seen.push(entry);
    if (Array.isArray(entry.errors))
      for (const inner of (entry.errors as unknown[]).slice(0, 3)) if (typeof inner === 'object' && inner !== null) seen.push(inner);
    current = entry.cause;
  }
  return seen;
}

/**
 * Why a `fetch` rejected, by error name and code: Node's `fetch` rejects with
 * `TypeError('fetch failed')` whose `cause.code` says why (`ECONNREFUSED`, `ENOTFOUND`), Bun sets
 * `code` on the error itself, Deno rejects with `PermissionDenied` / `NotCapable` without
 * `--allow-net` and otherwise a `TypeError` whose message carries the reason, and a timeout is the
 * `TimeoutError` of `AbortSignal.timeout`.
 */
export function classifyFetchError(error: unknown): KeySetFailureCause {
  const errors = chain(error);
  for (const { name, code } of errors) {
    if (name === 'TimeoutError' || name === 'AbortError' || TIMEOUT_CODES.has(code as string)) return 'timeout';
    if (name === 'PermissionDenied' || name === 'NotCapable') return 'permission_denied';
    if (code === 'ECONNREFUSED' || code === 'ConnectionRefused' || name === 'ConnectionRefused') return 'connection_refused';
    if (DNS_CODES.has(code as string)) return 'dns';
  }
  const messages = errors.map(({ message }) => (typeof message === 'string' ? message : '')).join(' | ');
  if (/connection refused/i.test(messages)) return 'connection_refused';
  if (/dns error|failed to lookup address|getaddrinfo|name resolution|name or service not known/i.test(messages)) return 'dns';
  return 'network';
}

const FAILURE_TEXT: Record<KeySetFailureCause, string> = {
  http_status: 'answered HTTP',
  timeout: 'did not answer in time',
  connection_refused: 'refused the connection',
  dns: 'could not be reached: its host name did not resolve',
  // Said in the words operators search for: Deno's own message only names the flag.
  permission_denied: 'may not be fetched: permission denied by the runtime (Deno: --allow-net)',
  network: 'could not be reached',
  invalid_json: 'did not answer a JSON object',
  not_a_jwk_set: 'is not a JWK Set (no "keys" array)',
  no_usable_key: 'holds no key that can verify signatures',
  too_large: `answered more than ${MAX_DOCUMENT_BYTES} bytes`,
  invalid_metadata: 'is not usable metadata',
};

/** The sentence for a failure, optionally with a detail (the status, a code, the field at fault). */
export function failureMessage(request: Pick<DocumentRequest, 'url' | 'kind'>, failure: KeySetFailureCause, detail?: string): string {
  return `${LABEL[request.kind]} ${request.url} ${FAILURE_TEXT[failure]}${detail === undefined ? '' : ` ${detail}`}`;
}

function fail(request: DocumentRequest, failure: KeySetFailureCause, details: { cause?: unknown; status?: number; detail?: string } = {}): KeysUnavailable {
  return new KeysUnavailable(failureMessage(request, failure, details.detail), { ...details, failure });
}

/** The innermost code or message of a rejected `fetch`, for operators (`ECONNREFUSED`, `bad port`). */
function networkDetail(error: unknown, failure: KeySetFailureCause, timeout: number): string {
  if (failure === 'timeout') return `(no answer within ${timeout} ms)`;
  const innermost = chain(error).at(-1);
  const code = typeof innermost?.code === 'string' ? innermost.code : undefined;
  const message = typeof innermost?.message === 'string' ? innermost.message.slice(0, 200) : undefined;
  const text = code ?? message;
  return text === undefined ? '' : `(${text})`;
}

async function boundedText(response: Response, request: DocumentRequest): Promise<string> {
  if (Number(response.headers.get('content-length') ?? 0) > MAX_DOCUMENT_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw fail(request, 'too_large');
  }
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_DOCUMENT_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw fail(request, 'too_large');
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** Fetches a JSON document with a timeout; anything but a 200 JSON object is a {@link KeysUnavailable}. */
async function fetchJson(request: DocumentRequest): Promise<Record<string, unknown>> {
  const { url, timeout } = request;
  let response: Response;
  // One signal for the whole exchange: a server that answers headers and then trickles the body
  // is as slow as one that never answers.
  const signal = AbortSignal.timeout(timeout);
  try {
    // Redirects are not followed: a key set is trusted for where it was configured, nowhere else.
    response = await request.fetchImpl(url, {
      redirect: 'manual',
      signal,
      headers: { accept: 'application/json, application/jwk-set+json' },
    });
  } catch (cause) {
    const failure = classifyFetchError(cause);
    throw fail(request, failure, { cause, detail: networkDetail(cause, failure, timeout) });
  }
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined);
    throw fail(request, 'http_status', { status: response.status, detail: String(response.status) });
  }
  let text: string;
  try {
    text = await boundedText(response, request);
  } catch (cause) {
    if (cause instanceof KeysUnavailable) throw cause;
    const failure = classifyFetchError(cause);
    throw fail(request, failure, { cause, detail: `while sending its body ${networkDetail(cause, failure, timeout)}` });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw fail(request, 'invalid_json', { cause, detail: '(the body is not JSON)' });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw fail(request, 'invalid_json');
  return json as Record<string, unknown>;
}

/**
 * Fetches a document and reads it with `read` (which throws a {@link KeysUnavailable} for content
 * it cannot use), and reports the outcome as a `jwks.fetch` event: duration, the `kid`s read, or
 * why it failed. Every failure is a {@link KeysUnavailable}.
 */
export async function fetchDocument<T>(request: DocumentRequest, read: (json: Record<string, unknown>) => T, kidsOf?: (value: T) => string[]): Promise<T> {
  const started = Date.now();
  const { url: uri, kind, emit } = request;
  try {
    const value = read(await fetchJson(request));
    emit?.({ type: 'jwks.fetch', kind, uri, outcome: 'ok', durationMs: Date.now() - started, ...(kidsOf === undefined ? {} : { kids: kidsOf(value) }) });
    return value;
  } catch (error) {
    const unavailable = error instanceof KeysUnavailable ? error : fail(request, 'network', { cause: error });
    emit?.({
      type: 'jwks.fetch',
      kind,
      uri,
      outcome: 'failed',
      durationMs: Date.now() - started,
      ...(unavailable.failure === undefined ? {} : { cause: unavailable.failure }),
      ...(unavailable.status === undefined ? {} : { status: unavailable.status }),
      reason: unavailable.message,
      error: unavailable,
    });
    throw unavailable;
  }
}
