import type { RevocationStore } from '@jwtauth/core';
import type { VerifierOptions } from '@jwtauth/issuer';
import type { Answer } from './answer.js';
import { parseJsonObject, type TokenRequest } from './body.js';
import type { Config } from './config.js';
import { createExampleAuth, TOKEN_PATH } from './auth.js';

// A bridge while the examples move onto the adapters' mounts: the old routes, answered by
// @jwtauth/issuer's endpoints. Deleted once every example mounts the endpoints itself.

export type TokenEndpoint = (request: TokenRequest) => Promise<Answer>;

export interface TokenEndpoints {
  verifierOptions: VerifierOptions;
  routes: ReadonlyMap<string, TokenEndpoint>;
}

export function createTokenEndpoints(config: Config, store: RevocationStore): TokenEndpoints {
  const { issuer, endpoints } = createExampleAuth<TokenRequest>(config, store);
  const routes = new Map<string, TokenEndpoint>();
  for (const path of ['/token', '/token/refresh', '/token/verify', '/token/revoke']) {
    routes.set(`${TOKEN_PATH}${path}`, async (request) => {
      const body = parseJsonObject(request);
      if (!body.ok) return { ...body.answer, headers: { ...body.answer.headers, 'Cache-Control': 'no-store' } };
      const answer = await endpoints.handle({ method: 'POST', path, body: body.value, contentType: request.contentType, cookie: request.cookie, request });
      if (answer === undefined) throw new Error(`no endpoint for ${path}`);
      return { status: answer.status, headers: { 'Content-Type': 'application/json', ...answer.headers }, body: JSON.stringify(answer.body) };
    });
  }
  return { verifierOptions: issuer.verifierOptions, routes };
}
