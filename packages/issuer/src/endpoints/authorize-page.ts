/** Escapes text for HTML element content and double-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:22rem;margin:4rem auto;padding:0 1rem}' +
  'label{display:block;margin:.75rem 0 .25rem}input{width:100%;box-sizing:border-box;padding:.4rem}' +
  'button{margin-top:1rem;padding:.5rem 1rem}.error{color:#a00}';

function page(title: string, content: string): string {
  return (
    `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
    `<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>` +
    `<body>${content}</body></html>\n`
  );
}

/** The sign-in form (no JavaScript): it posts the credentials and the signed request back to `/authorize`. */
export function signInPage(options: { clientName: string; request: string; message?: string }): string {
  const message = options.message === undefined ? '' : `<p class="error" role="alert">${escapeHtml(options.message)}</p>`;
  return page(
    'Sign in',
    `<h1>Sign in</h1><p>to continue to <strong>${escapeHtml(options.clientName)}</strong></p>${message}` +
      `<form method="post" action="authorize">` +
      `<input type="hidden" name="request" value="${escapeHtml(options.request)}">` +
      `<label for="username">Username</label><input id="username" name="username" autocomplete="username" required>` +
      `<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>` +
      `<button type="submit">Sign in</button></form>`,
  );
}

/** The page of a request that cannot be sent back to the client (unknown client or redirect URI, expired form). */
export function errorPage(message: string): string {
  return page('Sign-in error', `<h1>Sign-in error</h1><p class="error">${escapeHtml(message)}</p>`);
}
