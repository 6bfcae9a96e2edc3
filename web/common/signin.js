// The sign-in form: POST /console/api/signin, then the console. The session cookie is HttpOnly:
// this script never sees it.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('signin-form');
  const error = document.getElementById('signin-error');
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    error.textContent = '';
    const email = document.getElementById('email').value;
    const password = document.getElementById('password').value;
    if (!email || !password) {
      error.textContent = 'Enter your email and password.';
      return;
    }
    const button = form.querySelector('button');
    button.disabled = true;
    try {
      const res = await fetch('/console/api/signin', {
        method: 'POST',
        headers: {'Content-Type': 'application/json'},
        body: JSON.stringify({email, password}),
        credentials: 'same-origin',
      });
      if (res.ok) {
        window.location.assign('/');
        return;
      }
      const body = await res.json().catch(() => ({}));
      error.textContent = body.message || ('Sign-in failed (HTTP ' + res.status + ')');
    } catch (e) {
      error.textContent = 'The server cannot be reached: ' + e.message;
    } finally {
      button.disabled = false;
    }
  });
});
