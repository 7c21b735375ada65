import type { IncomingMessage } from 'node:http';

export type BodyRead =
  | { ok: true; body: Uint8Array | undefined }
  /** `too_large`: over the limit; `aborted`: the client went away (or timed out) before sending it all. */
  | { ok: false; reason: 'too_large' | 'aborted' };

/**
 * Reads a Node request body of at most `limit` bytes, for frameworks without a raw-body reader of
 * their own (Koa). Over the limit (by `Content-Length` or by what arrives) it stops reading at
 * once: the caller answers 413 with `Connection: close`, and the rest of the body is never read.
 */
export function readBody(request: IncomingMessage, limit: number): Promise<BodyRead> {
  if (Number(request.headers['content-length']) > limit) return Promise.resolve({ ok: false, reason: 'too_large' });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (result: BodyRead) => {
      request.off('data', onData).off('end', onEnd).off('error', onAborted).off('close', onAborted);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        request.pause();
        finish({ ok: false, reason: 'too_large' });
      } else {
        chunks.push(chunk);
      }
    };
    const onEnd = () => finish({ ok: true, body: length === 0 ? undefined : Buffer.concat(chunks) });
    // Node reports a request cut short as an `aborted` error, then `close`: nothing left to answer.
    const onAborted = () => finish({ ok: false, reason: 'aborted' });
    request.on('data', onData).once('end', onEnd).once('error', onAborted).once('close', onAborted);
  });
}
