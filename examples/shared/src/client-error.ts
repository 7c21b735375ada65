import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { badRequest, failure, type Answer } from './answer.js';

/** The response being written on each connection, noted by serve(): a client error must not cut into it. */
const responses = new WeakMap<Duplex, ServerResponse>();

/** Notes that `response` is now being written on `socket` (and forgets it once it is done). */
export function noteResponse(socket: Duplex, response: ServerResponse): void {
  responses.set(socket, response);
  response.once('close', () => {
    if (responses.get(socket) === response) responses.delete(socket);
  });
}

/** The answer to what Node reports as a client error, in the examples' JSON shape. */
export function clientErrorAnswer(code: string | undefined): Answer {
  switch (code) {
    case 'HPE_HEADER_OVERFLOW':
      return failure('headers_too_large', 'The request line or headers are too large');
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return failure('request_timeout', 'The request did not arrive in time');
    default:
      return badRequest('The request is not valid HTTP/1.1');
  }
}

/**
 * The server's `clientError` handler (Node's `server.on('clientError')`, Fastify's
 * `clientErrorHandler`): what Node would answer itself (400, 408 when the headers or the request
 * took longer than their timeout, 431 for headers over `maxHeaderSize`), but with the examples'
 * JSON body instead of none, and the connection closed. There is no request object at this
 * stage: the answer is written to the socket as it is.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // Nothing to answer to a client that is gone, and a response already started must not be cut into.
  if (error.code === 'ECONNRESET' || !socket.writable || responses.get(socket)?.headersSent === true) {
    socket.destroy();
    return;
  }
  const answer = clientErrorAnswer(error.code);
  const headers = Object.entries({ ...answer.headers, Connection: 'close' })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.end(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n${headers}\r\n${answer.body}`, () => socket.destroy());
}
