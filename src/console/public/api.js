// Talks to the console's JSON API. Writes go with the session cookie; a 401 asks for the token once.

export class ApiError extends Error {
  constructor(status, message, hint) { super(message); this.status = status; this.hint = hint; }
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

export const get = (path) => call('GET', path);

/** A write: on 401, the login dialog asks for the token, then the write is sent again. */
export async function post(path, body = {}) {
  try {
    return await call('POST', path, body);
  } catch (error) {
    if (error.status !== 401) throw error;
    const { askForToken } = await import('./login.js');
    await askForToken();
    return call('POST', path, body);
  }
}

export async function login(token) {
  return call('POST', '/api/login', { token });
}
