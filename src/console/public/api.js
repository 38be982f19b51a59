// Talks to the console's JSON API. Writes go with the session cookie; a 401 asks for the token once.

export class ApiError extends Error {
  constructor(status, message, hint) {
    super(message);
    this.status = status;
    this.hint = hint;
  }
}

async function call(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin',
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok) throw new ApiError(res.status, json.error?.message ?? res.statusText, json.error?.hint);
  return json;
}

/** A read; in the cloud reads need sign-in too, so a 401 asks for the token like a write does. */
export const get = (path) => signedIn(() => call('GET', path));

/** A write: on 401, the login dialog asks for the token, then the write is sent again. */
export const post = (path, body = {}) => signedIn(() => call('POST', path, body));

async function signedIn(send) {
  try {
    return await send();
  } catch (error) {
    if (error.status !== 401) throw error;
    const { askForToken } = await import('./login.js');
    await askForToken();
    return send();
  }
}

export async function login(token) {
  return call('POST', '/api/login', { token });
}
