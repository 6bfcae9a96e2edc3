// The consoles' JSON API call, the same for engage's pages and the audience console's: a
// state-changing request carries the session's CSRF token and a JSON content type
// (docs/console-api.md); a 401 means the session ended, so the page goes back to sign-in.
'use strict';

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// `csrfToken`: the session's token, '' before it is known (GET needs none).
async function consoleApi(method, path, body, csrfToken) {
  const headers = {};
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    headers['X-CSRF-Token'] = csrfToken || '';
  }
  const res = await fetch('/console/api' + path, {
    method, headers, credentials: 'same-origin',
    body: method === 'GET' ? undefined : JSON.stringify(body || {}),
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) {
    window.location.assign('/signin');
    throw new ApiError(401, 'signed out');
  }
  if (!res.ok) throw new ApiError(res.status, data.message || ('HTTP ' + res.status));
  return data;
}
