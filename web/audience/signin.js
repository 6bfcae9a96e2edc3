// Sign-in: POST /console/api/signin and on to the console. The session cookie is HttpOnly and
// never visible here.
'use strict';
document.addEventListener('DOMContentLoaded', () => {
  const form = document.getElementById('signin-form');
  const say = (text) => { document.getElementById('signin-error').textContent = text; };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    say('');
    const credentials = {
      email: document.getElementById('email').value,
      password: document.getElementById('password').value,
    };
    if (!credentials.email || !credentials.password) return say('Enter your email and password.');
    const submit = form.querySelector('button');
    submit.disabled = true;
    try {
      const res = await fetch('/console/api/signin', {
        method: 'POST', credentials: 'same-origin',
        headers: {'Content-Type': 'application/json'}, body: JSON.stringify(credentials),
      });
      if (res.ok) return window.location.assign('/');
      const answer = await res.json().catch(() => ({}));
      say(answer.message || ('Sign-in failed (HTTP ' + res.status + ')'));
    } catch (e) {
      say('The server cannot be reached: ' + e.message);
    } finally {
      submit.disabled = false;
    }
  });
});
