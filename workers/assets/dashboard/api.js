// The API client: same-origin JSON over fetch. Reads may be token-protected
// (then a 401 asks for the token once and stores it in the `ripcord_token`
// cookie, which also authorizes the EventSource stream); writes send the
// token as a bearer header. The token lives in sessionStorage: it is gone
// when the tab closes.

import { formDialog } from './dialog.js';

const TOKEN_KEY = 'ripcord_token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function storedToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function storeToken(token) {
  try {
    sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Storage disabled: the token is then asked again when needed.
  }
  // Cookie values may not hold ; , spaces or quotes: encode only then.
  const value = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/.test(token) ? token : encodeURIComponent(token);
  const secure = location.protocol === 'https:' ? '; Secure' : '';
  document.cookie = `${TOKEN_KEY}=${value}; path=/; SameSite=Strict${secure}`;
}

export function forgetToken() {
  try {
    sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Nothing stored.
  }
  document.cookie = `${TOKEN_KEY}=; path=/; SameSite=Strict; Max-Age=0`;
}

async function errorFrom(res) {
  let code = `http_${res.status}`;
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
    }
  } catch {
    // Not JSON: keep the status line.
  }
  return new ApiError(res.status, code, message);
}

function authHeaders(token) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  return headers;
}

/** Asks for the read token (a 401 on a read); resolves false when dismissed. */
function askReadToken() {
  return formDialog({
    title: 'Token required',
    intro: 'This Ripcord server protects its status pages. Enter the API token; it is kept for this browser tab only.',
    fields: [{ name: 'token', label: 'API token', type: 'password', required: true }],
    confirmLabel: 'Continue',
    testid: 'token-dialog',
    onSubmit: ({ token }) => {
      storeToken(token.trim());
      return true;
    },
  });
}

/** GET a JSON document; on 401 asks for the token and retries. */
export async function getJSON(path) {
  for (;;) {
    const res = await fetch(path, { headers: authHeaders(storedToken()), credentials: 'same-origin' });
    if (res.ok) return res.json();
    if (res.status === 401) {
      forgetToken();
      if (await askReadToken()) continue;
    }
    throw await errorFrom(res);
  }
}

/** POST JSON with the given bearer token. Resolves with the body (or {}). */
export async function postJSON(path, body, token) {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { ...authHeaders(token), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) {
    const error = await errorFrom(res);
    if (res.status === 401) error.message = `The token was refused (${error.message}).`;
    if (res.status === 403) error.message = `This server does not accept changes (${error.message}).`;
    throw error;
  }
  storeToken(token);
  const text = await res.text();
  return text ? JSON.parse(text) : {};
}
