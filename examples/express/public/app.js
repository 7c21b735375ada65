// @ts-check
// The browser side of the example API's cookie mode (examples/README.md, "Refresh tokens in a
// cookie"): no framework, no build step.
//
// The access token lives in this module's scope only. Not in localStorage or sessionStorage: any
// script that runs on this origin (an XSS) could read those, and they outlive the page. A module's
// top-level variables are not properties of `window` either. The refresh token never reaches this
// script: the server sets it as an HttpOnly cookie with Path=/api/token, which the browser attaches
// by itself to the refresh and revoke requests, and to nothing else. A reload therefore loses the
// access token, and the page gets a new one through the cookie.

/** @typedef {{ status: number, ok: boolean, body: any }} Answer */

/** @type {string | undefined} The current access token; undefined when logged out. */
let accessToken;
/** @type {ReturnType<typeof setTimeout> | undefined} The next automatic refresh. */
let refreshTimer;
/**
 * @type {Promise<Answer> | undefined} The refresh in flight. The timer, the button and a 401
 * `token_expired` share it: each refresh rotates the cookie, so two at once would be wasted work.
 */
let refreshing;

const statusArea = element('status');
const loginForm = /** @type {HTMLFormElement} */ (element('login'));
const session = element('session');

/** @param {string} id */
function element(id) {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`#${id} is missing from index.html`);
  return found;
}

/**
 * Shows `text` in the status area, and the session buttons or the login form.
 * @param {string} text
 * @param {boolean} loggedIn
 */
function show(text, loggedIn) {
  statusArea.textContent = text;
  loginForm.hidden = loggedIn;
  session.hidden = !loggedIn;
}

/**
 * Calls the API on this origin. The browser adds the refresh cookie where its Path matches
 * (/api/token…), never to /api/hello; the access token goes in `Authorization` when given.
 * @param {string} method
 * @param {string} path
 * @param {{ json?: object, bearer?: string }} [options]
 * @returns {Promise<Answer>}
 */
async function request(method, path, { json, bearer } = {}) {
  /** @type {Record<string, string>} */
  const headers = {};
  // The token endpoints take JSON only, which is also what a cross-site form cannot send.
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  if (bearer !== undefined) headers.Authorization = `Bearer ${bearer}`;
  try {
    const response = await fetch(path, {
      method,
      headers,
      body: json === undefined ? undefined : JSON.stringify(json),
      credentials: 'same-origin',
      cache: 'no-store',
    });
    /** @type {any} */
    let body;
    try {
      body = await response.json();
    } catch {
      body = undefined;
    }
    return { status: response.status, ok: response.ok, body };
  } catch {
    return { status: 0, ok: false, body: { error_description: 'The server cannot be reached.' } };
  }
}

/**
 * What went wrong, in the server's words (the contract's `error_description`).
 * @param {Answer} answer
 */
function problem(answer) {
  const description = answer.body?.error_description;
  return typeof description === 'string' ? description : `The server answered ${answer.status}.`;
}

/**
 * Keeps the new access token, and plans the next refresh: 30 s before it expires, or after three
 * quarters of a shorter lifetime, so that requests do not have to wait for one.
 * @param {{ access_token: string, expires_in: number }} tokens
 */
function keep(tokens) {
  accessToken = tokens.access_token;
  clearTimeout(refreshTimer);
  const lead = Math.min(30, tokens.expires_in / 4);
  // setTimeout fires at once for delays over 2^31 - 1 ms (24.8 days).
  const delay = Math.min((tokens.expires_in - lead) * 1000, 2 ** 31 - 1);
  refreshTimer = setTimeout(() => void refresh(), delay);
}

/**
 * Drops the access token (the page is logged out) and says why.
 * @param {string} text
 */
function forget(text) {
  accessToken = undefined;
  clearTimeout(refreshTimer);
  refreshTimer = undefined;
  show(text, false);
}

/**
 * A new access token through the refresh cookie (the body names no token). A failure logs the
 * page out and shows why.
 * @returns {Promise<Answer>}
 */
function refresh() {
  refreshing ??= request('POST', '/api/token/refresh', { json: {} })
    .then((answer) => {
      if (answer.ok) keep(answer.body);
      else forget(problem(answer));
      return answer;
    })
    .finally(() => {
      refreshing = undefined;
    });
  return refreshing;
}

/**
 * Calls /api/hello with the access token and shows its greeting. A 401 `token_expired` (the timer
 * did not run in time: a sleeping laptop, a throttled background tab) refreshes and tries once more.
 * @param {boolean} [retried]
 */
async function greet(retried = false) {
  if (accessToken === undefined) return forget('Not logged in.');
  const answer = await request('GET', '/api/hello', { bearer: accessToken });
  if (answer.ok) return show(String(answer.body?.message), true);
  if (answer.status === 401 && answer.body?.code === 'token_expired' && !retried) {
    // A failed refresh has already logged the page out and said why.
    if ((await refresh()).ok) await greet(true);
    return;
  }
  // Any other 401 (revoked by a logout elsewhere, …) ends the session; a 403 or 503 does not.
  if (answer.status === 401) forget(problem(answer));
  else show(problem(answer), true);
}

loginForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(loginForm);
  show('Logging in…', false);
  const answer = await request('POST', '/api/token', {
    json: { username: form.get('username'), password: form.get('password'), refresh_in: 'cookie' },
  });
  if (!answer.ok) return forget(problem(answer));
  loginForm.reset();
  keep(answer.body);
  await greet();
});

element('hello').addEventListener('click', async () => {
  show('Calling /api/hello…', true);
  await greet();
});

element('refresh').addEventListener('click', async () => {
  show('Refreshing…', true);
  if ((await refresh()).ok) await greet();
});

element('logout').addEventListener('click', async () => {
  show('Logging out…', true);
  // Revoking through the cookie ends the whole session (its access tokens too) and clears the
  // cookie. The token in memory is dropped whatever the answer.
  const answer = await request('POST', '/api/token/revoke', { json: {} });
  forget(answer.ok ? 'Logged out.' : problem(answer));
});

// On load (a new tab, a reload): the access token is gone, but the cookie may still hold a session.
const restored = await refresh();
if (restored.ok) await greet();
// No cookie at all (never logged in, or logged out): not a failure to report.
else if (restored.body?.code === 'missing_field') show('Not logged in.', false);
