// The engage console: a thin front over /console/api (docs/console-api.md). Every rule lives in
// the server (filters, sizes, sends); this file only builds forms and shows answers. Text from
// the server goes into the page as text nodes, never as HTML.
'use strict';

let session = null;  // {email, workspace, csrf_token, base_url}

// --- small helpers -------------------------------------------------------------------------

// h('p', {class: 'note'}, 'text', child...) builds an element; attributes starting with "on"
// are event listeners.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

let idCounter = 0;
function uid(prefix) { return prefix + '-' + (++idCounter); }

// A labelled control: returns [label, control].
function field(labelText, control) {
  if (!control.id) control.id = uid('f');
  return [h('label', {for: control.id}, labelText), control];
}

function table(headers, rows) {
  return h('div', {class: 'table-wrap'},
    h('table', {},
      h('thead', {}, h('tr', {}, headers.map((x) => h('th', {scope: 'col'}, x)))),
      h('tbody', {}, rows.length ? rows.map((r) => h('tr', {}, r.map((c) => h('td', {}, c))))
                                 : h('tr', {}, h('td', {colspan: headers.length, class: 'note'}, 'None yet.')))));
}

function setStatus(text) { document.getElementById('status').textContent = text || ''; }

// A console API call (web/common/api.js) with this session's CSRF token.
function api(method, path, body) { return consoleApi(method, path, body, session ? session.csrf_token : ''); }

// Runs `work` with the button disabled and a progress note; shows its error in `errorEl`.
async function busy(button, note, errorEl, work) {
  if (errorEl) errorEl.textContent = '';
  button.disabled = true;
  setStatus(note);
  try {
    await work();
  } catch (e) {
    if (errorEl && !(e instanceof ApiError && e.status === 401)) errorEl.textContent = e.message;
  } finally {
    button.disabled = false;
    setStatus('');
  }
}

function errorLine() { return h('p', {class: 'error', role: 'alert'}); }

// A modal question; resolves true when the user confirms.
function confirmDialog(title, text, okText) {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  const ok = document.getElementById('confirm-ok');
  const cancel = document.getElementById('confirm-cancel');
  ok.textContent = okText;
  ok.className = 'danger';
  return new Promise((resolve) => {
    const done = (answer) => {
      ok.onclick = cancel.onclick = dialog.oncancel = null;
      dialog.close();
      resolve(answer);
    };
    ok.onclick = () => done(true);
    cancel.onclick = () => done(false);
    dialog.oncancel = () => done(false);
    dialog.showModal();
    cancel.focus();
  });
}

// A secret shown once with a copy button.
function secretBox(labelText, value) {
  const input = h('input', {type: 'text', class: 'secret', readonly: true, value});
  const copied = h('span', {class: 'note', 'aria-live': 'polite'});
  const copy = h('button', {type: 'button', class: 'secondary', onclick: async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch (e) {
      input.select();
      document.execCommand('copy');
    }
    copied.textContent = ' Copied.';
  }}, 'Copy');
  return h('div', {class: 'warning'},
    field(labelText, input),
    h('p', {}, 'Shown once: copy it now. Only a salted hash is stored, so it cannot be shown again.'),
    copy, copied);
}

function page(title, ...content) {
  const main = document.getElementById('main');
  main.replaceChildren(h('h1', {}, title), ...content);
  document.title = title + ' · engage';
  main.focus({preventScroll: true});
}

// --- Technology Partners ---------------------------------------------------------------------

async function partnersPage() {
  const {partners} = await api('GET', '/partners');
  page('Technology Partners',
    h('p', {class: 'note'}, 'Partners that send cohorts to this workspace. Register one with ',
      h('code', {}, 'engage partner add'), '.'),
    partners.length
      ? h('ul', {}, partners.map((p) => h('li', {},
          h('a', {href: '#/partners/' + encodeURIComponent(p.name)}, p.display_name),
          ' — ', p.data_import_key_active ? 'data import key active' : 'no data import key')))
      : h('p', {}, 'No partner is registered.'));
}

async function partnerPage(name) {
  const p = await api('GET', '/partners/' + encodeURIComponent(name));
  const error = errorLine();
  const shown = h('div');
  const generate = h('button', {type: 'button'}, 'Generate new key');
  const invalidate = h('button', {type: 'button', class: 'danger'}, 'Invalidate key');
  generate.addEventListener('click', async () => {
    if (p.data_import_key_active) {
      const go = await confirmDialog('Generate a new data import key?',
        'The current key stops working at once: ' + p.display_name +
        ' must be given the new key before its next import.', 'Generate new key');
      if (!go) return;
    }
    await busy(generate, 'Generating…', error, async () => {
      const {data_import_key} = await api('POST', '/partners/' + encodeURIComponent(name) + '/key');
      await partnerPage(name);
      document.getElementById('key-shown').replaceChildren(secretBox('Data import key', data_import_key));
    });
  });
  invalidate.addEventListener('click', async () => {
    const go = await confirmDialog('Invalidate the data import key?',
      'The key stops working at once: ' + p.display_name + ' cannot import until you generate a new one.',
      'Invalidate key');
    if (!go) return;
    await busy(invalidate, 'Invalidating…', error, async () => {
      await api('POST', '/partners/' + encodeURIComponent(name) + '/key/invalidate');
      await partnerPage(name);
    });
  });
  shown.id = 'key-shown';
  page(p.display_name,
    h('section', {},
      h('h2', {}, 'REST endpoint'),
      h('p', {}, 'Give ', p.display_name, ' this endpoint and the data import key below:'),
      h('p', {}, h('code', {id: 'rest-endpoint'}, p.base_url)),
      h('p', {class: 'note'}, 'It posts cohorts to ', h('code', {}, p.endpoint), ' and ', h('code', {}, p.endpoint + '/users'), '.')),
    h('section', {},
      h('h2', {}, 'Data import key'),
      h('p', {id: 'key-state'}, p.data_import_key_active
        ? 'A key is active since ' + p.data_import_key_created_at + '.'
        : 'No key is active.'),
      p.data_import_key_active
        ? h('p', {class: 'warning'}, 'Generating a new key makes the current one stop working at once.')
        : null,
      h('div', {class: 'actions'}, generate, p.data_import_key_active ? invalidate : null),
      shown, error));
}

// --- Segments --------------------------------------------------------------------------------

async function segmentsPage() {
  const {segments} = await api('GET', '/segments');
  page('Segments',
    h('div', {class: 'actions'}, h('a', {href: '#/segments/new'}, 'Create segment')),
    table(['Name', 'Size', 'Created', 'Segment id'],
      segments.map((s) => [s.name, String(s.size), s.created_at, h('code', {}, s.segment_id)])));
}

// One row of the filter builder. kind: {type: 'cohort', partner} | {type: 'attribute'} | {type: 'purchase'}.
function filterRow(kind, partners, onChange, onRemove) {
  const box = h('fieldset', {class: 'filter'});
  let read;
  if (kind.type === 'cohort') {
    const p = partners.find((x) => x.name === kind.partner);
    const mode = h('select', {}, h('option', {value: 'includes'}, 'includes'), h('option', {value: 'excludes'}, 'excludes'));
    const picker = h('select', {multiple: true, size: 5});
    for (const c of p.cohorts) picker.append(h('option', {value: c}, c));
    if (!p.cohorts.length) picker.append(h('option', {disabled: true}, '(no cohort imported yet)'));
    box.append(h('legend', {}, 'Filter: ' + p.display_name + ' Cohorts'),
      ...field('Condition', mode), ...field(p.display_name + ' Cohorts', picker));
    read = () => {
      const names = [...picker.selectedOptions].map((o) => o.value);
      if (!names.length) return null;
      return {partner_cohort: {partner: p.name, [mode.value]: names}};
    };
    mode.addEventListener('change', onChange);
    picker.addEventListener('change', onChange);
  } else if (kind.type === 'attribute') {
    const name = h('input', {type: 'text'});
    const cmp = h('select', {}, ['equals', 'not_equals', 'greater_than', 'less_than', 'exists', 'does_not_exist']
      .map((c) => h('option', {value: c}, c.replaceAll('_', ' '))));
    const value = h('input', {type: 'text'});
    box.append(h('legend', {}, 'Custom attribute'),
      ...field('Attribute name', name), ...field('Comparison', cmp), ...field('Value', value));
    read = () => {
      if (!name.value) return null;
      const f = {name: name.value, comparison: cmp.value};
      if (cmp.value !== 'exists' && cmp.value !== 'does_not_exist') {
        if (value.value === '') return null;
        // Numbers compare as numbers; anything else is the string typed.
        const n = Number(value.value);
        f.value = value.value.trim() !== '' && !Number.isNaN(n) ? n
          : value.value === 'true' ? true : value.value === 'false' ? false : value.value;
      }
      return {custom_attribute: f};
    };
    for (const el of [name, value]) el.addEventListener('input', onChange);
    cmp.addEventListener('change', onChange);
  } else {
    const product = h('input', {type: 'text'});
    const days = h('input', {type: 'number', min: 1, step: 1});
    box.append(h('legend', {}, 'Purchased'),
      ...field('Product id', product), ...field('Within days (empty: ever)', days));
    read = () => {
      if (!product.value) return null;
      const f = {product_id: product.value};
      if (days.value) f.within_days = Number(days.value);
      return {purchased: f};
    };
    product.addEventListener('input', onChange);
    days.addEventListener('input', onChange);
  }
  box.append(h('div', {class: 'actions'}, h('button', {type: 'button', class: 'secondary', onclick: onRemove}, 'Remove filter')));
  return {box, read};
}

async function newSegmentPage() {
  const {partners: list} = await api('GET', '/partners');
  const partners = [];
  for (const p of list) {
    const {cohorts} = await api('GET', '/partners/' + encodeURIComponent(p.name) + '/cohorts');
    partners.push({name: p.name, display_name: p.display_name, cohorts});
  }
  const name = h('input', {type: 'text', required: true});
  const combine = h('select', {}, h('option', {value: 'and'}, 'AND: users matching every filter'),
    h('option', {value: 'or'}, 'OR: users matching any filter'));
  const add = h('select', {},
    h('option', {value: ''}, 'Choose a filter…'),
    partners.map((p) => h('option', {value: 'cohort:' + p.name}, p.display_name + ' Cohorts')),
    h('option', {value: 'attribute'}, 'Custom attribute'),
    h('option', {value: 'purchase'}, 'Purchased'));
  const addButton = h('button', {type: 'button', class: 'secondary'}, 'Add filter');
  const rows = [];
  const rowsBox = h('div');
  const size = h('p', {class: 'size', id: 'segment-size', 'aria-live': 'polite'}, 'Add a filter to see the size.');
  const error = errorLine();
  const save = h('button', {type: 'submit'}, 'Save segment');

  const filter = () => {
    const parts = rows.map((r) => r.read());
    if (!parts.length || parts.some((x) => x === null)) return null;
    return parts.length === 1 ? parts[0] : {[combine.value]: parts};
  };
  let timer = null;
  let asked = 0;
  const refresh = () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const f = filter();
      if (!f) {
        size.textContent = rows.length ? 'Complete every filter to see the size.' : 'Add a filter to see the size.';
        return;
      }
      const mine = ++asked;
      size.textContent = 'Counting…';
      try {
        const r = await api('POST', '/segments/size', {filter: f});
        if (mine === asked) size.textContent = r.size + ' users';
      } catch (e) {
        if (mine === asked) size.textContent = e.message;
      }
    }, 200);
  };
  addButton.addEventListener('click', () => {
    if (!add.value) return;
    const kind = add.value.startsWith('cohort:') ? {type: 'cohort', partner: add.value.slice(7)}
      : {type: add.value};
    const row = filterRow(kind, partners, refresh, () => {
      rows.splice(rows.indexOf(row), 1);
      row.box.remove();
      refresh();
    });
    rows.push(row);
    rowsBox.append(row.box);
    add.value = '';
    row.box.querySelector('select, input').focus();
    refresh();
  });
  combine.addEventListener('change', refresh);
  const form = h('form', {novalidate: true},
    h('section', {}, ...field('Segment name', name)),
    h('section', {},
      h('h2', {}, 'Filters'),
      ...field('Combine filters with', combine),
      rowsBox,
      ...field('New filter', add), h('div', {class: 'actions'}, addButton)),
    h('section', {}, h('h2', {}, 'Size'), size),
    h('div', {class: 'actions'}, save), error);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const f = filter();
    if (!name.value) { error.textContent = 'Enter a segment name.'; name.focus(); return; }
    if (!f) { error.textContent = 'Add at least one filter and complete every filter.'; return; }
    busy(save, 'Saving…', error, async () => {
      await api('POST', '/segments', {name: name.value, filter: f});
      window.location.hash = '#/segments';
    });
  });
  page('Create segment', form);
}

// --- Campaigns -------------------------------------------------------------------------------

async function campaignsPage() {
  const [{campaigns, channels}, {segments}] = await Promise.all([api('GET', '/campaigns'), api('GET', '/segments')]);
  const segName = Object.fromEntries(segments.map((s) => [s.segment_id, s.name]));
  const name = h('input', {type: 'text'});
  const segment = h('select', {}, segments.map((s) => h('option', {value: s.segment_id}, s.name + ' (' + s.size + ' users)')));
  const channel = h('select', {}, channels.map((c) => h('option', {value: c}, c)));
  const control = h('input', {type: 'number', min: 0, max: 99, step: 1, value: 0});
  const error = errorLine();
  const create = h('button', {type: 'submit'}, 'Create campaign');
  const form = h('form', {novalidate: true},
    h('h2', {}, 'Create campaign'),
    ...field('Campaign name', name), ...field('Segment', segment), ...field('Channel', channel),
    ...field('Control group share (%)', control),
    h('div', {class: 'actions'}, create), error);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!name.value) { error.textContent = 'Enter a campaign name.'; name.focus(); return; }
    if (!segment.value) { error.textContent = 'Create a segment first.'; return; }
    busy(create, 'Creating…', error, async () => {
      const r = await api('POST', '/campaigns', {name: name.value, segment_id: segment.value, channel: channel.value,
        control_share: Number(control.value || 0) / 100});
      window.location.hash = '#/campaigns/' + encodeURIComponent(r.campaign_id);
    });
  });
  page('Campaigns',
    table(['Name', 'Channel', 'Segment', 'Control share', 'Created'],
      campaigns.map((c) => [h('a', {href: '#/campaigns/' + encodeURIComponent(c.campaign_id)}, c.name), c.channel,
        segName[c.segment_id] || c.segment_id, Math.round(c.control_share * 100) + ' %', c.created_at])),
    h('section', {}, form));
}

async function campaignPage(id) {
  const s = await api('GET', '/campaigns/' + encodeURIComponent(id) + '/sends');
  const error = errorLine();
  const send = h('button', {type: 'button'}, 'Send now');
  send.addEventListener('click', () => busy(send, 'Sending… (the whole segment is decided before this returns)', error, async () => {
    await api('POST', '/campaigns/' + encodeURIComponent(id) + '/send');
    await campaignPage(id);
  }));
  const counts = h('div', {class: 'counts', id: 'send-counts'},
    ['sent', 'control', 'capped', ...Object.keys(s.counts).filter((k) => !['sent', 'control', 'capped'].includes(k))]
      .map((k) => h('div', {}, h('strong', {}, String(s.counts[k])), k)));
  page(s.name,
    h('p', {}, 'Channel ', s.channel, ', control group ', Math.round(s.control_share * 100) + ' %', '. ',
      h('a', {href: '#/campaigns'}, 'All campaigns')),
    h('div', {class: 'actions'}, send), error,
    h('h2', {}, 'Sends'), counts,
    h('p', {class: 'note'}, s.total + ' send records; the first ' + s.rows.length + ':'),
    table(['external_id', 'braze_id', 'Outcome', 'Time'],
      s.rows.map((r) => [r.external_id || '(none)', h('code', {}, r.braze_id), r.outcome, r.time])));
}

// --- Users -----------------------------------------------------------------------------------

async function usersPage() {
  const by = h('select', {}, h('option', {value: 'external_id'}, 'external_id'),
    h('option', {value: 'alias'}, 'alias'), h('option', {value: 'device_id'}, 'device_id'),
    h('option', {value: 'braze_id'}, 'braze_id'));
  const value = h('input', {type: 'search'});
  const label = h('input', {type: 'text'});
  const labelBox = h('div', {hidden: true}, ...field('Alias label', label));
  const valueLabel = h('label', {for: 'lookup-value'}, 'Value');
  value.id = 'lookup-value';
  by.addEventListener('change', () => {
    labelBox.hidden = by.value !== 'alias';
    valueLabel.textContent = by.value === 'alias' ? 'Alias name' : 'Value';
  });
  const error = errorLine();
  const result = h('div');
  const go = h('button', {type: 'submit'}, 'Look up');
  const form = h('form', {novalidate: true}, ...field('Look up by', by), labelBox, valueLabel, value,
    h('div', {class: 'actions'}, go), error);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!value.value) { error.textContent = 'Enter what to look up.'; value.focus(); return; }
    const q = new URLSearchParams();
    if (by.value === 'alias') { q.set('alias_label', label.value); q.set('alias_name', value.value); }
    else q.set(by.value, value.value);
    busy(go, 'Looking up…', error, async () => {
      result.replaceChildren();
      const {user} = await api('GET', '/users?' + q.toString());
      result.replaceChildren(userView(user));
    });
  });
  page('Users', h('section', {}, form), result);
}

function userView(u) {
  const attrs = Object.entries(u.custom_attributes || {});
  return h('div', {},
    h('h2', {}, 'Identifiers'),
    table(['Identifier', 'Value'], [
      ['external_id', u.external_id || '(anonymous)'], ['braze_id', h('code', {}, u.braze_id)],
      ...(u.user_aliases || []).map((a) => ['alias ' + a.alias_label, a.alias_name])]),
    h('h2', {}, 'Attributes'),
    table(['Name', 'Value'], attrs.map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])),
    h('h2', {}, 'Devices'),
    table(['device_id'], (u.devices || []).map((d) => [d.device_id])),
    h('h2', {}, 'Cohorts'),
    table(['Partner', 'Cohort'], (u.cohorts || []).map((c) => [c.partner || '', c.name || c.cohort_id || ''])),
    h('h2', {}, 'Recent sends'),
    table(['Campaign', 'Outcome', 'Channel', 'Time'],
      (u.recent_sends || []).map((s) => [s.campaign_name, s.outcome, s.channel, s.time])));
}

// --- Settings --------------------------------------------------------------------------------

async function settingsPage() {
  const [{api_keys, permissions}, {frequency_caps, channels}] =
    await Promise.all([api('GET', '/api-keys'), api('GET', '/frequency-caps')]);
  const keyName = h('input', {type: 'text'});
  const perms = permissions.map((p) => h('input', {type: 'checkbox', value: p, id: uid('perm')}));
  const all = h('input', {type: 'checkbox', value: 'all', id: uid('perm')});
  const keyError = errorLine();
  const shown = h('div');
  const createKey = h('button', {type: 'submit'}, 'Create API key');
  const keyForm = h('form', {novalidate: true},
    h('h2', {}, 'Create a REST API key'), ...field('Key name', keyName),
    h('fieldset', {}, h('legend', {}, 'Permissions'),
      h('label', {class: 'inline', for: all.id}, all, 'all'),
      perms.map((c) => h('label', {class: 'inline', for: c.id}, c, c.value))),
    h('div', {class: 'actions'}, createKey), keyError, shown);
  keyForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const chosen = all.checked ? 'all' : perms.filter((c) => c.checked).map((c) => c.value).join(',');
    if (!keyName.value) { keyError.textContent = 'Enter a key name.'; keyName.focus(); return; }
    if (!chosen) { keyError.textContent = 'Choose at least one permission.'; return; }
    busy(createKey, 'Creating…', keyError, async () => {
      const r = await api('POST', '/api-keys', {name: keyName.value, permissions: chosen});
      await settingsPage();
      document.getElementById('api-key-shown').replaceChildren(secretBox('REST API key', r.api_key));
    });
  });
  shown.id = 'api-key-shown';

  const capError = errorLine();
  const capChannel = h('select', {}, channels.map((c) => h('option', {value: c}, c)));
  const capMax = h('input', {type: 'number', min: 1, step: 1});
  const capDays = h('input', {type: 'number', min: 1, max: 366, step: 1});
  const setCap = h('button', {type: 'submit'}, 'Set cap');
  const capForm = h('form', {novalidate: true}, h('h2', {}, 'Set a global frequency cap'),
    ...field('Channel', capChannel), ...field('Max messages per user', capMax), ...field('In the last days', capDays),
    h('div', {class: 'actions'}, setCap), capError);
  capForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    busy(setCap, 'Saving…', capError, async () => {
      await api('POST', '/frequency-caps', {channel: capChannel.value, max_messages: Number(capMax.value),
        days: Number(capDays.value)});
      await settingsPage();
    });
  });
  const removeCap = (channel) => {
    const b = h('button', {type: 'button', class: 'secondary', 'aria-label': 'Remove the ' + channel + ' cap'}, 'Remove');
    b.addEventListener('click', () => busy(b, 'Removing…', capError, async () => {
      await api('POST', '/frequency-caps/remove', {channel});
      await settingsPage();
    }));
    return b;
  };
  page('Settings',
    h('section', {}, h('h2', {}, 'REST API keys'),
      table(['Key id', 'Name', 'Permissions', 'Created'],
        api_keys.map((k) => [h('code', {}, k.key_id), k.name, k.permissions, k.created_at])),
      keyForm),
    h('section', {}, h('h2', {}, 'Global frequency caps'),
      table(['Channel', 'Max messages', 'Days', ''],
        frequency_caps.map((c) => [c.channel, String(c.max_messages), String(c.days), removeCap(c.channel)])),
      capForm));
}

// --- routing ---------------------------------------------------------------------------------

async function route() {
  const parts = (window.location.hash.replace(/^#\/?/, '') || 'partners').split('/').map(decodeURIComponent);
  closeMenu();
  try {
    if (parts[0] === 'partners' && parts[1]) await partnerPage(parts[1]);
    else if (parts[0] === 'partners') await partnersPage();
    else if (parts[0] === 'segments' && parts[1] === 'new') await newSegmentPage();
    else if (parts[0] === 'segments') await segmentsPage();
    else if (parts[0] === 'campaigns' && parts[1]) await campaignPage(parts[1]);
    else if (parts[0] === 'campaigns') await campaignsPage();
    else if (parts[0] === 'users') await usersPage();
    else if (parts[0] === 'settings') await settingsPage();
    else page('Not found', h('p', {}, 'No console page at ' + window.location.hash + '.'));
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) page('Error', h('p', {class: 'error', role: 'alert'}, e.message));
  }
}

function closeMenu() {
  document.getElementById('partners-submenu').hidden = true;
  document.getElementById('partners-menu').setAttribute('aria-expanded', 'false');
}

document.addEventListener('DOMContentLoaded', async () => {
  const menu = document.getElementById('partners-menu');
  const sub = document.getElementById('partners-submenu');
  menu.addEventListener('click', () => {
    const open = sub.hidden;
    sub.hidden = !open;
    menu.setAttribute('aria-expanded', String(open));
    if (open) sub.querySelector('a').focus();
  });
  sub.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') { closeMenu(); menu.focus(); }
  });
  document.addEventListener('click', (ev) => { if (!ev.target.closest('.has-sub')) closeMenu(); });
  document.getElementById('signout').addEventListener('click', async () => {
    try { await api('POST', '/signout'); } catch (e) { /* already signed out */ }
    window.location.assign('/signin');
  });
  try {
    session = await api('GET', '/session');
  } catch (e) {
    return;  // api() went to the sign-in page
  }
  document.getElementById('who').textContent = session.email + ' · workspace ' + session.workspace;
  window.addEventListener('hashchange', route);
  await route();
});
