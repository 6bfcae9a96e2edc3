// The audience console: a thin front over /console/api (docs/console-api.md). Every rule lives in
// the server (offers, curves, plans, exports); the page scripts only build forms and show
// answers. Text from the server goes into the page as text nodes, never as HTML.
//
// window.CF is the contract with the page scripts (plan.js, editor.js, export.js, ...):
//   CF.api(method, path, body) -> Promise<json>   the X-CSRF-Token added; throws Error(message)
//   CF.pages.<name> = {title, render(container, arg)}   routed from #/<name>/<arg>
//   CF.go(hash)   CF.el(tag, attrs, ...children)   CF.waitJob(id, onProgress) -> Promise<job>
'use strict';

(() => {
  // The menu, in this order; a page whose script is not loaded is left out.
  const MENU = [
    ['plan', 'Campaign Plan'], ['editor', 'New campaign'], ['export', 'Export'],
    ['opportunities', 'Opportunities'], ['analytics', 'Analytics'], ['settings', 'Settings'],
  ];
  const SCRIPTS = ['plan', 'editor', 'export', 'opportunities', 'analytics', 'settings'];

  // el('p', {class: 'note'}, 'text', child...): attributes starting with "on" are listeners,
  // `text` sets the text; false/null attributes and children are skipped.
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else if (k === 'text') node.textContent = v;
      else if (k === 'value' && (tag === 'input' || tag === 'textarea' || tag === 'select')) node.value = v;
      else node.setAttribute(k, v === true ? '' : v);
    }
    for (const c of children.flat(Infinity)) {
      if (c === null || c === undefined || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  let ids = 0;
  // A labelled control: [label, control].
  function field(labelText, control) {
    if (!control.id) control.id = 'f-' + (++ids);
    return [el('label', {for: control.id}, labelText), control];
  }

  function table(headers, rows, empty) {
    return el('div', {class: 'table-wrap'},
      el('table', {},
        el('thead', {}, el('tr', {}, headers.map((x) => el('th', {scope: 'col'}, x)))),
        el('tbody', {}, rows.length ? rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c))))
          : el('tr', {}, el('td', {colspan: headers.length, class: 'note'}, empty || 'None yet.')))));
  }

  function status(text) { document.getElementById('status').textContent = text || ''; }

  // A console API call (web/common/api.js) with this session's CSRF token.
  function api(method, path, body) { return consoleApi(method, path, body, CF.session ? CF.session.csrf_token : ''); }

  // Polls GET /jobs/{id} until the job is done (resolves with it) or failed (throws its error).
  async function waitJob(id, onProgress) {
    for (;;) {
      const job = await api('GET', '/jobs/' + encodeURIComponent(id));
      if (onProgress) onProgress(job);
      if (job.state === 'done') return job;
      if (job.state === 'failed') throw new ApiError(500, job.error || 'the job failed');
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  // A progress bar with its message, for waitJob's onProgress.
  function progressBar(label) {
    const bar = el('progress', {max: '1', value: '0', 'aria-label': label});
    const note = el('span', {class: 'note', 'aria-live': 'polite'});
    const box = el('div', {class: 'progress', hidden: true}, bar, note);
    box.update = (job) => {
      box.hidden = false;
      bar.value = job.fraction || 0;
      note.textContent = job.message || '';
    };
    return box;
  }

  // Runs `work` with `button` disabled; its error goes into `errorEl`.
  async function busy(button, note, errorEl, work) {
    if (errorEl) errorEl.textContent = '';
    if (button) button.disabled = true;
    status(note);
    try {
      return await work();
    } catch (e) {
      if (errorEl && !(e instanceof ApiError && e.status === 401)) errorEl.textContent = e.message;
      return undefined;
    } finally {
      if (button) button.disabled = false;
      status('');
    }
  }

  function errorLine() { return el('p', {class: 'error', role: 'alert'}); }

  function go(hash) {
    if (window.location.hash === hash) route();
    else window.location.hash = hash;
  }

  function buildMenu() {
    const menu = document.getElementById('menu');
    menu.replaceChildren(...MENU.filter(([name]) => CF.pages[name]).map(([name, label]) =>
      el('li', {}, el('a', {href: '#/' + name, 'data-page': name}, label))));
  }

  // Each navigation renders into a view of its own: a page still drawing when the hash changes
  // then fills a detached element, never the next page.
  let navigation = 0;

  async function route() {
    const current = ++navigation;
    const hash = window.location.hash.replace(/^#\/?/, '');
    const slash = hash.indexOf('/');
    let name = slash < 0 ? hash : hash.slice(0, slash);
    const arg = slash < 0 ? '' : decodeURIComponent(hash.slice(slash + 1));
    if (!CF.pages[name]) name = 'plan';
    const page = CF.pages[name];
    for (const a of document.querySelectorAll('#menu a')) {
      if (a.dataset.page === name) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    const main = document.getElementById('main');
    main.replaceChildren();
    document.title = (page ? page.title : 'audience') + ' · audience';
    if (!page) {
      main.append(el('p', {class: 'note'}, 'No page is loaded.'));
      return;
    }
    const view = el('div', {});
    main.append(view);
    try {
      await page.render(view, arg);
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 401)) view.append(el('p', {class: 'error', role: 'alert'}, e.message));
    }
    if (current === navigation) main.focus();
  }

  function loadScript(name) {
    return new Promise((resolve) => {
      const s = el('script', {src: '/console/' + name + '.js'});
      s.onload = resolve;
      s.onerror = resolve;  // a missing page only leaves its menu entry out
      document.head.append(s);
    });
  }

  // settingsSections: page scripts push {title, render(container)}; the Settings page renders each.
  const CF = {api, pages: {}, go, el, waitJob, field, table, errorLine, busy, progressBar, status, ApiError,
              session: null, settingsSections: []};
  window.CF = CF;

  document.addEventListener('DOMContentLoaded', async () => {
    try {
      CF.session = await api('GET', '/session');
    } catch (e) {
      return;  // a 401 went to the sign-in page
    }
    document.getElementById('who').textContent = CF.session.email;
    document.getElementById('signout').addEventListener('click', async () => {
      try {
        await api('POST', '/signout', {});
      } finally {
        window.location.assign('/signin');
      }
    });
    // The page scripts the server has, in menu order (they register into CF.pages).
    const have = new Set(CF.session.page_scripts || SCRIPTS);
    for (const name of SCRIPTS) {
      if (have.has(name)) await loadScript(name);
    }
    buildMenu();
    window.addEventListener('hashchange', route);
    route();
  });
})();
