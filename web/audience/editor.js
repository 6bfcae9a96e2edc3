// The campaign editor ("New campaign" at #/editor/new, a campaign's details and edit at
// #/editor/<name>). The pickers only compose expression text; the server compiles it
// (GET /offer/count, /audience/count) and computes the audience curve once per offer
// (GET /curve), whose points the "Audience size" slider reads. Saving writes the plan file
// through the same library functions as `audience campaign add|edit`.
'use strict';
(() => {
  const {el} = CF;
  const num = (x, digits) => Number(x || 0).toLocaleString('en-US', {maximumFractionDigits: digits || 0});
  const quote = (v) => '"' + String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';

  // Calls `fn` once the input has rested for `ms`; only the latest call's answer is used.
  function debounced(fn, ms) {
    let timer = null;
    let seq = 0;
    return (...args) => {
      clearTimeout(timer);
      const mine = ++seq;
      timer = setTimeout(() => fn(() => mine === seq, ...args), ms);
    };
  }

  // An attribute picker that appends `name op value` conditions to an expression textarea.
  function conditionBuilder(label, attributes, textarea, onChange) {
    const attr = el('select', {}, attributes.map((a) => el('option', {value: a.name}, a.name)));
    const op = el('select', {},
      el('option', {value: '='}, 'is'), el('option', {value: '!='}, 'is not'),
      el('option', {value: 'in'}, 'is one of'), el('option', {value: 'not in'}, 'is none of'));
    const values = el('select', {multiple: true, size: '4'});
    const join = el('select', {}, el('option', {value: 'and'}, 'and'), el('option', {value: 'or'}, 'or'));
    const fillValues = () => {
      const a = attributes.find((x) => x.name === attr.value);
      values.replaceChildren(...(a ? a.values : []).map((v, i) =>
        el('option', {value: v.value, selected: i === 0}, v.value + ' (' + num(v.count) + ')')));
    };
    attr.addEventListener('change', fillValues);
    fillValues();
    const add = el('button', {type: 'button', class: 'secondary'}, 'Add condition');
    add.addEventListener('click', () => {
      const chosen = [...values.selectedOptions].map((o) => o.value);
      if (!chosen.length) return;
      let cond;
      if (op.value === 'in' || op.value === 'not in' || chosen.length > 1) {
        const inOp = op.value === '!=' || op.value === 'not in' ? 'not in' : 'in';
        cond = attr.value + ' ' + inOp + ' (' + chosen.map(quote).join(', ') + ')';
      } else {
        cond = attr.value + ' ' + op.value + ' ' + quote(chosen[0]);
      }
      const current = textarea.value.trim();
      textarea.value = !current || current === 'any' ? cond : '(' + current + ') ' + join.value + ' ' + cond;
      onChange();
    });
    const part = (text, control) => el('div', {}, ...CF.field(text, control));
    return el('div', {class: 'picker', role: 'group', 'aria-label': label},
      part('Attribute', attr), part('Operator', op), part('Values', values), part('Combine with', join),
      el('div', {}, add));
  }

  function curveSvg(points, index) {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 400 200');
    svg.setAttribute('class', 'curve');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'The audience curve: share of expected buyers captured, best customers first');
    if (!points.length) return svg;
    const maxSize = points[points.length - 1].size || 1;
    const xy = (p) => [10 + 380 * p.size / maxSize, 190 - 180 * p.buyer_share];
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', [[10, 190], ...points.map(xy)].map((q) => q.join(',')).join(' '));
    line.setAttribute('fill', 'none');
    line.setAttribute('stroke', '#2f5bd3');
    line.setAttribute('stroke-width', '2');
    const diag = document.createElementNS(ns, 'line');
    for (const [k, v] of Object.entries({x1: 10, y1: 190, x2: 390, y2: 10, stroke: '#9aa1b1',
      'stroke-dasharray': '4 4'})) diag.setAttribute(k, v);
    svg.append(diag, line);
    if (index !== null && points[index]) {
      const [x, y] = xy(points[index]);
      const dot = document.createElementNS(ns, 'circle');
      for (const [k, v] of Object.entries({cx: x, cy: y, r: 5, fill: '#f0a500'})) dot.setAttribute(k, v);
      svg.append(dot);
    }
    return svg;
  }

  // arg: "" or "new" or "new?offer=...&name=..." (a new campaign, prefilled), else a campaign's name.
  async function render(container, arg) {
    const isNew = !arg || arg === 'new' || arg.startsWith('new?');
    const prefill = isNew && arg.includes('?') ? new URLSearchParams(arg.slice(arg.indexOf('?') + 1)) : null;
    const [plan, attrs] = await Promise.all([CF.api('GET', '/plan'), CF.api('GET', '/attributes')]);
    let campaign = null;
    if (!isNew) campaign = await CF.api('GET', '/campaigns/' + encodeURIComponent(arg));
    const c = campaign || {name: prefill && prefill.get('name') || '', offer: prefill && prefill.get('offer') || 'any',
      channel: 'email', send_date: plan.start, priority: 'medium', holdout_share: 0.1, audience: '',
      export_file_name: '', volume: null};

    const name = el('input', {type: 'text', value: c.name, required: true, autocomplete: 'off'});
    const offerText = el('textarea', {class: 'expr', spellcheck: 'false'});
    offerText.value = c.offer;
    const offerCount = el('p', {class: 'size', 'aria-live': 'polite', id: 'offer-count'});
    const audienceText = el('textarea', {class: 'expr', spellcheck: 'false', placeholder: 'everyone'});
    audienceText.value = c.audience || '';
    const audienceCount = el('p', {class: 'note', 'aria-live': 'polite', id: 'audience-count'});
    const channel = el('select', {}, (plan.channels || ['email', 'push', 'sms']).map((x) =>
      el('option', {value: x, selected: x === c.channel}, x)));
    const sendDate = el('input', {type: 'date', value: c.send_date, min: plan.start, max: plan.end, required: true});
    const priority = el('select', {}, (plan.priorities || ['high', 'medium', 'low']).map((x) =>
      el('option', {value: x, selected: x === c.priority}, x)));
    const holdout = el('input', {type: 'number', min: '0', max: '0.99', step: '0.01', value: String(c.holdout_share)});
    const exportName = el('input', {type: 'text', value: campaign ? c.export_file_name : '',
      placeholder: 'the campaign\'s name', autocomplete: 'off'});

    // The curve and its slider.
    let points = [];
    let volume = c.volume;  // the plan file's volume; the slider replaces it with {fixed: size}
    const slider = el('input', {type: 'range', min: '0', max: '0', step: '1', value: '0', id: 'audience-size',
      disabled: true});
    const sliderLabel = el('label', {for: 'audience-size'}, 'Audience size');
    const numbers = el('div', {class: 'curve-numbers', 'aria-live': 'polite'});
    const volumeNote = el('p', {class: 'note', id: 'volume-note'});
    const chart = el('div');
    const curveNote = el('p', {class: 'note'});
    const showVolume = () => {
      if (!volume) volumeNote.textContent = 'Volume: not set yet; move the slider.';
      else if (volume.fixed !== undefined) volumeNote.textContent = 'Volume: at most ' + num(volume.fixed) + ' customers.';
      else volumeNote.textContent = 'Volume: ' + JSON.stringify(volume) + ' (moving the slider sets a fixed size).';
    };
    const showPoint = (fromUser) => {
      const i = Number(slider.value);
      const p = points[i];
      if (!p) {
        numbers.replaceChildren();
        chart.replaceChildren(curveSvg([], null));
        return;
      }
      const box = (label, value, id) => el('div', {}, label, el('strong', {id}, value));
      numbers.replaceChildren(
        box('Size', num(p.size), 'curve-size'),
        box('Expected buyers', num(p.expected_buyers, 1), 'curve-buyers'),
        box('Expected revenue', num(p.expected_revenue, 2), 'curve-revenue'),
        box('Share of expected buyers captured', num(p.buyer_share * 100, 1) + '%', 'curve-share'),
        box('Lift', num(p.lift, 2) + '×', 'curve-lift'));
      slider.setAttribute('aria-valuetext', num(p.size) + ' customers, ' + num(p.expected_buyers, 1) + ' expected buyers');
      chart.replaceChildren(curveSvg(points, i));
      if (fromUser) {
        volume = {fixed: Math.max(1, p.size)};
        showVolume();
      }
    };
    slider.addEventListener('input', () => showPoint(true));

    const loadCurve = debounced(async (latest) => {
      const asked = offerText.value;
      const q = '?offer=' + encodeURIComponent(asked) + '&audience=' + encodeURIComponent(audienceText.value);
      curveNote.textContent = 'Computing the audience curve…';
      try {
        const curve = await CF.api('GET', '/curve' + q);
        if (!latest()) return;
        points = curve.points;
        slider.dataset.offer = asked;  // which offer the slider's points are of
        slider.max = String(Math.max(0, points.length - 1));
        slider.disabled = points.length === 0;
        // Start where the campaign's fixed volume is, else in the middle.
        let at = Math.floor((points.length - 1) / 2);
        if (volume && volume.fixed !== undefined && points.length) {
          at = points.reduce((best, p, i) => Math.abs(p.size - volume.fixed) <
            Math.abs(points[best].size - volume.fixed) ? i : best, 0);
        }
        slider.value = String(Math.max(0, at));
        curveNote.textContent = num(curve.eligible) + ' eligible customers of ' + num(curve.customers) + '; ' +
          num(curve.expected_buyers, 1) + ' expected buyers in ' + curve.horizon_days + ' days, as of ' + curve.as_of + '.';
        showPoint(false);
        // A new campaign starts with the size the slider shows.
        if (!volume && points.length) {
          volume = {fixed: Math.max(1, points[Number(slider.value)].size)};
          showVolume();
        }
      } catch (e) {
        if (!latest()) return;
        points = [];
        slider.disabled = true;
        curveNote.textContent = 'No curve: ' + e.message;
        showPoint(false);
      }
    }, 400);

    const countOffer = debounced(async (latest) => {
      try {
        const r = await CF.api('GET', '/offer/count?offer=' + encodeURIComponent(offerText.value));
        if (latest()) offerCount.textContent = num(r.products) + ' products';
      } catch (e) {
        if (latest()) offerCount.textContent = e.message;
      }
    }, 250);
    const countAudience = debounced(async (latest) => {
      try {
        const r = await CF.api('GET', '/audience/count?audience=' + encodeURIComponent(audienceText.value));
        if (latest()) audienceCount.textContent = num(r.customers) + ' of ' + num(r.of) + ' customers';
      } catch (e) {
        if (latest()) audienceCount.textContent = e.message;
      }
    }, 250);
    const offerChanged = () => { countOffer(); loadCurve(); };
    const audienceChanged = () => { countAudience(); loadCurve(); };
    offerText.addEventListener('input', offerChanged);
    audienceText.addEventListener('input', audienceChanged);

    const error = CF.errorLine();
    const save = el('button', {type: 'submit'}, isNew ? 'Save campaign' : 'Save changes');
    const form = el('form', {novalidate: true},
      el('section', {'aria-labelledby': 'sec-campaign'},
        el('h2', {id: 'sec-campaign'}, 'Campaign'),
        el('div', {class: 'grid2'},
          el('div', {}, ...CF.field('Name', name)),
          el('div', {}, ...CF.field('Channel', channel)),
          el('div', {}, ...CF.field('Send date', sendDate)),
          el('div', {}, ...CF.field('Priority', priority)),
          el('div', {}, ...CF.field('Holdout share', holdout)),
          el('div', {}, ...CF.field('Export file name', exportName)))),
      el('section', {'aria-labelledby': 'sec-offer'},
        el('h2', {id: 'sec-offer'}, 'Offer'),
        conditionBuilder('Offer builder', attrs.product_attributes, offerText, offerChanged),
        ...CF.field('Offer expression', offerText),
        offerCount),
      el('section', {'aria-labelledby': 'sec-audience'},
        el('h2', {id: 'sec-audience'}, 'Audience restriction'),
        attrs.customer_attributes.length
          ? conditionBuilder('Audience builder', attrs.customer_attributes, audienceText, audienceChanged) : null,
        ...CF.field('Audience expression', audienceText),
        audienceCount),
      el('section', {'aria-labelledby': 'sec-curve'},
        el('h2', {id: 'sec-curve'}, 'Audience curve'),
        curveNote, sliderLabel, slider, numbers, volumeNote, chart),
      el('div', {class: 'actions'}, save), error);
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      CF.busy(save, 'Saving…', error, async () => {
        const body = {name: name.value.trim(), offer: offerText.value, channel: channel.value,
          send_date: sendDate.value, priority: priority.value, holdout_share: Number(holdout.value)};
        if (volume) body.volume = volume;
        if (audienceText.value.trim()) body.audience = audienceText.value;
        if (exportName.value.trim()) body.export_file_name = exportName.value.trim();
        if (campaign && campaign.exclude_recent_buyers_days) {
          body.exclude_recent_buyers_days = campaign.exclude_recent_buyers_days;
        }
        const path = isNew ? '/campaigns' : '/campaigns/' + encodeURIComponent(campaign.name);
        const saved = await CF.api('POST', path, {campaign: body});
        CF.status('Saved ' + saved.name);
        CF.go('#/editor/' + encodeURIComponent(saved.name));
      });
    });

    container.append(el('h1', {}, isNew ? 'New campaign' : 'Campaign: ' + c.name));
    if (campaign) {
      const removeError = CF.errorLine();
      const remove = el('button', {type: 'button', class: 'danger'}, 'Remove campaign');
      remove.addEventListener('click', () => {
        if (remove.dataset.armed !== '1') {
          remove.dataset.armed = '1';
          remove.textContent = 'Confirm: remove "' + c.name + '"';
          return;
        }
        CF.busy(remove, 'Removing…', removeError, async () => {
          await CF.api('POST', '/campaigns/' + encodeURIComponent(c.name) + '/remove', {});
          CF.go('#/plan');
        });
      });
      const p = campaign.planned;
      container.append(el('section', {'aria-labelledby': 'sec-details'},
        el('h2', {id: 'sec-details'}, 'Details'),
        CF.table(['Field', 'Value'], [
          ['Export file name', el('code', {id: 'detail-export-file-name'}, c.export_file_name)],
          ['Cohort id', el('code', {id: 'detail-cohort-id'}, c.cohort_id)],
          ['Planned', p ? num(p.selected) + ' selected, ' + num(p.holdout) + ' holdout, expected revenue ' +
            num(p.expected_revenue, 2) : 'not in the last run'],
        ]),
        el('div', {class: 'actions'},
          CF.pages.export ? el('a', {href: '#/export/' + encodeURIComponent(c.cohort_id)}, 'Export details') : null,
          remove),
        removeError));
    }
    container.append(form);
    showVolume();
    offerChanged();
    audienceChanged();
  }

  CF.pages.editor = {title: 'Campaign editor', render};
})();
