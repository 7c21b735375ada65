// What an MCP client app keeps for the SDK's OAuth client (`OAuthClientProvider` of
// @modelcontextprotocol/sdk): a pre-registered public client, its tokens and PKCE verifier, in
// memory, and the authorization URL it was sent to (which a test then opens as the user would).
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';

/** The client's redirect URI (nothing listens there: the tests read the redirect's Location). */
export const MCP_REDIRECT = 'http://127.0.0.1:33418/callback';

export class MemoryClientProvider implements OAuthClientProvider {
  saved: OAuthTokens | undefined;
  verifier: string | undefined;
  authorizationUrl: URL | undefined;
  readonly redirectUrl = MCP_REDIRECT;

  constructor(
    readonly clientId: string,
    /** A fixed `state`, or none (the SDK then sends none). */
    private readonly fixedState?: string,
  ) {}

  get clientMetadata(): OAuthClientMetadata {
    return {
      client_name: 'MCP test client',
      redirect_uris: [MCP_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
    };
  }
  state(): string {
    return this.fixedState ?? '';
  }
  clientInformation(): OAuthClientInformationMixed {
    return { client_id: this.clientId };
  }
  tokens(): OAuthTokens | undefined {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL): void {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    if (this.verifier === undefined) throw new Error('no code verifier saved');
    return this.verifier;
  }
}
