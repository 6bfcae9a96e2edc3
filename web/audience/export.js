// The Export page, a campaign's export details, and the engagement platform's settings: a thin
// front over /console/api/export/* (docs/console-api.md). The export itself is the same library
// loop as `audience export`; this file only shows its per-campaign progress and counts.
'use strict';

(function () {
  const el = (...a) => CF.el(...a);
  const COUNTS = ['sent', 'added', 'removed', 'unmatched', 'skipped'];
  const STATE_WORDS = {pending: 'Waiting', running: 'Exporting…', done: 'Exported', failed: 'Failed'};

  function count(v) {
    if (v === undefined) return '–';
    if (v === null) return 'n/a';
    return Number(v).toLocaleString('en-US');
  }

  // Waits for a job and answers its result; a failed job throws its error in words.
  async function runJob(id, onProgress) {
    const job = await CF.waitJob(id, onProgress);
    if (job && job.state === 'failed') throw new Error(job.error || 'the export failed');
    return job && job.result !== undefined ? job.result : job;
  }

  function progressTable(rows) {
    const headers = ['Campaign', 'Export file name', 'State'].concat(COUNTS.map((c) => c[0].toUpperCase() + c.slice(1)), ['Error']);
    return el('div', {class: 'table-wrap'},
      el('table', {'aria-label': 'Export progress per campaign'},
        el('thead', {}, el('tr', {}, headers.map((x) => el('th', {scope: 'col'}, x)))),
        el('tbody', {}, rows.map((r) => el('tr', {'data-cohort': r.cohort_id},
          el('td', {}, r.name),
          el('td', {}, r.export_file_name),
          el('td', {class: r.state === 'failed' ? 'error' : null}, STATE_WORDS[r.state] || r.state),
          COUNTS.map((c) => el('td', {'data-count': c}, count(r[c]))),
          el('td', {class: 'error'}, r.error || ''))))));
  }

  async function renderList(container) {
    container.append(el('h1', {}, 'Export'));
    const error = el('p', {class: 'error', role: 'alert'});
    const data = await CF.api('GET', '/export/campaigns');
    if (!data.settings.complete) {
      container.append(el('p', {class: 'warning'},
        'The engagement platform is not set yet: give its endpoint and keys in ',
        el('a', {href: '#/settings'}, 'Settings'), ' before exporting.'));
    } else {
      container.append(el('p', {class: 'note'},
        'Exports to ' + data.settings.endpoint + ' as partner ' + data.settings.partner +
        '. Each export sends only the changes since the last one the platform acknowledged.'));
    }
    if (data.plan_error) {
      container.append(el('p', {class: 'warning'}, 'No plan to export yet: run the plan on the Campaign Plan page first. (' + data.plan_error + ')'));
      return;
    }
    const boxes = [];
    const list = el('fieldset', {}, el('legend', {}, 'Campaigns of plan ' + data.plan));
    for (const c of data.campaigns) {
      const box = el('input', {type: 'checkbox', value: c.name, id: 'export-' + c.cohort_id});
      boxes.push(box);
      list.append(el('div', {class: 'export-row'},
        el('label', {class: 'inline', for: box.id}, box, c.name),
        el('span', {class: 'note'}, ' exported as ', el('code', {}, c.export_file_name), ' · '),
        el('a', {href: '#/export/' + encodeURIComponent(c.cohort_id), 'aria-label': 'Export details of ' + c.name}, 'Details')));
    }
    if (!data.campaigns.length) list.append(el('p', {class: 'note'}, 'The plan has no campaigns.'));
    container.append(list);

    const bar = el('progress', {max: '1', value: '0', 'aria-label': 'Export progress', hidden: true});
    const message = el('p', {class: 'note', 'aria-live': 'polite'});
    const results = el('div', {});
    const button = el('button', {type: 'button', disabled: !data.settings.complete || null}, 'Export campaigns');
    button.addEventListener('click', async () => {
      error.textContent = '';
      const names = boxes.filter((b) => b.checked).map((b) => b.value);
      if (!names.length) {
        error.textContent = 'Select at least one campaign to export.';
        return;
      }
      button.disabled = true;
      bar.hidden = false;
      bar.value = 0;
      message.textContent = 'Starting the export…';
      try {
        const started = await CF.api('POST', '/export/run', {campaigns: names});
        const result = await runJob(started.job_id, (job) => {
          bar.value = job.fraction || 0;
          message.textContent = job.message || '';
          if (job.detail && job.detail.campaigns) results.replaceChildren(progressTable(job.detail.campaigns));
        });
        bar.value = 1;
        results.replaceChildren(progressTable(result.campaigns));
        message.textContent = result.failed
          ? result.failed + ' of ' + result.campaigns.length + ' campaigns failed; the others were exported.'
          : 'Exported ' + result.campaigns.length + ' campaign' + (result.campaigns.length === 1 ? '' : 's') + ' to ' + result.endpoint + '.';
        if (result.failed) error.textContent = 'Some campaigns were not exported: see the Error column.';
      } catch (e) {
        error.textContent = e.message;
        message.textContent = '';
      } finally {
        button.disabled = false;
      }
    });
    container.append(el('div', {class: 'actions'}, button), bar, message, error, results);
  }

  function definitionList(pairs) {
    return el('dl', {class: 'details'}, pairs.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  }

  async function renderDetails(container, cohortId) {
    const d = await CF.api('GET', '/export/campaigns/' + encodeURIComponent(cohortId));
    container.append(el('p', {}, el('a', {href: '#/export'}, '← Export')),
      el('h1', {}, d.name),
      el('section', {'aria-label': 'Campaign'},
        definitionList([['Export file name', el('code', {}, d.export_file_name)], ['Cohort id', el('code', {}, d.cohort_id)],
          ['Channel', d.channel || '–'], ['Send date', d.send_date || '–'], ['Offer', el('code', {}, d.offer || '–')]]),
        el('p', {}, el('a', {href: '#/editor/' + encodeURIComponent(d.name)}, 'Edit the campaign'))));
    const audience = el('section', {'aria-label': 'Planned audience'}, el('h2', {}, 'Planned audience'));
    if (d.audience) {
      audience.append(definitionList([['Planned identifiers', count(d.audience.planned)], ['Holdout', count(d.audience.holdout)],
        ['Skipped (no identifier)', count(d.audience.skipped)], ['Duplicates', count(d.audience.duplicates)]]));
    } else {
      audience.append(el('p', {class: 'error'}, d.audience_error));
    }
    container.append(audience);
    const exported = el('section', {'aria-label': 'Exports'}, el('h2', {}, 'Exports'));
    if (!d.journal) {
      exported.append(el('p', {class: 'note'}, 'No engagement platform is set: see Settings.'));
    } else if (d.journal.error) {
      exported.append(el('p', {class: 'error'}, d.journal.error));
    } else if (!d.journal.exported) {
      exported.append(el('p', {class: 'note'}, 'Not exported to ' + d.journal.endpoint + ' yet.'));
    } else {
      exported.append(definitionList([['Destination', d.journal.endpoint + ' (partner ' + d.journal.partner + ')'],
        ['Members the platform acknowledged', count(d.journal.acknowledged)]]));
    }
    if (d.last_export) {
      exported.append(el('h2', {}, 'Last export from this console'), progressTable([d.last_export]));
    }
    container.append(exported);
  }

  CF.pages.export = {
    title: 'Export',
    render(container, arg) {
      return arg ? renderDetails(container, decodeURIComponent(arg)) : renderList(container);
    },
  };

  // The engagement platform's part of the Settings page.
  async function renderSettings(container) {
    const s = await CF.api('GET', '/export/settings');
    const error = el('p', {class: 'error', role: 'alert'});
    const saved = el('p', {class: 'note', 'aria-live': 'polite'});
    const endpoint = el('input', {type: 'url', id: 'platform-endpoint', value: s.endpoint, placeholder: 'http://127.0.0.1:4000', autocomplete: 'off'});
    const partner = el('input', {type: 'text', id: 'platform-partner', value: s.partner, autocomplete: 'off'});
    const keyInput = (id, isSet) => el('input', {type: 'password', id, autocomplete: 'new-password',
      placeholder: isSet ? 'saved: leave empty to keep it' : 'not set'});
    const partnerKey = keyInput('platform-partner-key', s.partner_api_key_set);
    const importKey = keyInput('platform-import-key', s.data_import_key_set);
    const state = (isSet) => el('span', {class: 'note'}, isSet ? ' (saved)' : ' (not set)');
    const partnerKeyState = state(s.partner_api_key_set);
    const importKeyState = state(s.data_import_key_set);
    const button = el('button', {type: 'submit'}, 'Save engagement platform');
    const form = el('form', {'aria-label': 'Engagement platform'},
      el('p', {class: 'note'}, 'Where "Export campaigns" sends the cohorts. Keys are kept on this server and never shown again after saving.'),
      el('label', {for: endpoint.id}, 'Endpoint'), endpoint,
      el('label', {for: partner.id}, 'Partner'), partner,
      el('label', {for: partnerKey.id}, 'Partner API key', partnerKeyState), partnerKey,
      el('label', {for: importKey.id}, 'Data import key', importKeyState), importKey,
      el('div', {class: 'actions'}, button), saved, error);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      error.textContent = saved.textContent = '';
      button.disabled = true;
      try {
        const body = {endpoint: endpoint.value, partner: partner.value};
        if (partnerKey.value) body.partner_api_key = partnerKey.value;
        if (importKey.value) body.data_import_key = importKey.value;
        const r = await CF.api('POST', '/export/settings', body);
        partnerKey.value = importKey.value = '';
        partnerKeyState.textContent = r.partner_api_key_set ? ' (saved)' : ' (not set)';
        importKeyState.textContent = r.data_import_key_set ? ' (saved)' : ' (not set)';
        partnerKey.placeholder = r.partner_api_key_set ? 'saved: leave empty to keep it' : 'not set';
        importKey.placeholder = r.data_import_key_set ? 'saved: leave empty to keep it' : 'not set';
        endpoint.value = r.endpoint;
        saved.textContent = r.complete ? 'Saved. Exports go to ' + r.endpoint + '.' : 'Saved. Give both keys to export.';
      } catch (e) {
        error.textContent = e.message;
      } finally {
        button.disabled = false;
      }
    });
    container.append(form);
  }

  CF.settingsSections = CF.settingsSections || [];
  CF.settingsSections.push({title: 'Engagement platform', render: renderSettings});
})();
