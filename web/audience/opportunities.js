// The Opportunities page: a product attribute's values ranked as offers by what the model
// expects them to sell, with the share of that demand the plan already reaches (the same
// ranking as `audience opportunities`, computed by the server as a job).
'use strict';

(function () {
  const el = (...a) => CF.el(...a);
  const num = (v, digits) => (v === null || v === undefined) ? '–'
    : Number(v).toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: digits});
  const pct = (v) => (v === null || v === undefined) ? 'new' : (v >= 0 ? '+' : '') + num(100 * v, 1) + '%';

  async function runJob(id, onProgress) {
    const job = await CF.waitJob(id, onProgress);
    if (job && job.state === 'failed') throw new Error(job.error || 'the ranking failed');
    return job && job.result !== undefined ? job.result : job;
  }

  function resultTable(r) {
    const withPlan = r.plan !== null && r.plan !== undefined;
    const headers = ['Rank', 'Value', 'Products', 'Expected buyers', 'Expected revenue', 'Buyer growth']
      .concat(withPlan ? ['Reached by the plan', 'Untapped buyers'] : [], ['']);
    const rows = r.opportunities.map((o) => el('tr', {},
      el('td', {}, String(o.rank)),
      el('td', {}, o.value),
      el('td', {}, num(o.products, 0)),
      el('td', {}, num(o.expected_buyers, 1)),
      el('td', {}, num(o.expected_revenue, 2)),
      el('td', {}, pct(o.buyer_growth)),
      withPlan ? [el('td', {}, num(100 * o.reached_share, 1) + '%'), el('td', {}, num(o.untapped_buyers, 1))] : [],
      el('td', {}, el('button', {type: 'button', class: 'secondary', 'aria-label': 'Create campaign for ' + o.value,
        onclick: () => CF.go('#/editor/new?offer=' + encodeURIComponent(o.offer) + '&name=' + encodeURIComponent(o.value))},
      'Create campaign'))));
    return el('div', {class: 'table-wrap'},
      el('table', {'aria-label': 'Opportunities'},
        el('thead', {}, el('tr', {}, headers.map((x) => el('th', {scope: 'col'}, x)))),
        el('tbody', {}, rows.length ? rows : el('tr', {}, el('td', {colspan: headers.length, class: 'note'}, 'No values.')))));
  }

  CF.pages.opportunities = {
    title: 'Opportunities',
    async render(container) {
      container.append(el('h1', {}, 'Opportunities'),
        el('p', {class: 'note'}, 'The values of a product attribute ranked as offers by the demand the model expects over its horizon; with a plan, the share of it the planned campaigns already reach and the untapped rest.'));
      const attrs = (await CF.api('GET', '/opportunities/attributes')).attributes;
      const by = el('select', {id: 'opp-by'}, attrs.map((a) => el('option', {value: a}, a)));
      const preferred = ['category', 'department', 'brand'].find((a) => attrs.includes(a));
      if (preferred) by.value = preferred;
      const rankBy = el('select', {id: 'opp-rank'}, el('option', {value: 'revenue'}, 'Expected revenue'),
        el('option', {value: 'buyers'}, 'Expected buyers'));
      const button = el('button', {type: 'submit'}, 'Rank offers');
      const bar = el('progress', {max: '1', value: '0', 'aria-label': 'Ranking progress', hidden: true});
      const message = el('p', {class: 'note', 'aria-live': 'polite'});
      const error = el('p', {class: 'error', role: 'alert'});
      const out = el('div', {});
      const form = el('form', {'aria-label': 'Rank offers'},
        el('label', {for: by.id}, 'Values of'), by,
        el('label', {for: rankBy.id}, 'Ranked by'), rankBy,
        el('div', {class: 'actions'}, button));
      const run = async () => {
        error.textContent = '';
        button.disabled = true;
        bar.hidden = false;
        bar.value = 0;
        try {
          const started = await CF.api('POST', '/opportunities', {by: by.value, rank_by: rankBy.value});
          const r = await runJob(started.job_id, (job) => {
            bar.value = job.fraction || 0;
            message.textContent = job.message || '';
          });
          bar.value = 1;
          message.textContent = r.values + ' values of ' + r.by + ' scored over ' + num(r.customers, 0) +
            ' customers within ' + r.horizon_days + ' days as of ' + r.as_of +
            (r.plan ? '; the plan reaches ' + num(r.plan.customers_reached, 0) + ' customers.' : '; no plan yet.');
          out.replaceChildren(resultTable(r));
        } catch (e) {
          error.textContent = e.message;
          message.textContent = '';
        } finally {
          button.disabled = false;
          bar.hidden = true;
        }
      };
      form.addEventListener('submit', (ev) => { ev.preventDefault(); run(); });
      container.append(form, bar, message, error, out);
      if (attrs.length) run();
    },
  };
})();
