import type { IncomingMessage } from 'node:http';

export type BodyRead = { ok: true; body: Uint8Array | undefined } | { ok: false; tooLarge: true };

/**
 * Reads a Node request body of at most `limit` bytes. Over the limit (by `Content-Length` or by
 * what arrives), the rest is read and dropped, so the connection stays usable, and the result is
 * `tooLarge`. For frameworks without a raw-body reader of their own (Koa).
 */
export function readBody(request: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = Number(request.headers['content-length'] ?? Number.NaN);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let tooLarge = declared > limit;
    request.on('data', (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
    });
    request.once('end', () => resolve(tooLarge ? { ok: false, tooLarge } : { ok: true, body: length === 0 ? undefined : Buffer.concat(chunks) }));
    request.once('error', reject);
  });
}
