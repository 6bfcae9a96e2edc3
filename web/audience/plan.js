// Campaign Plan: the plan file's campaigns on a calendar ("Month" / "Week"), the totals and the
// pressure status of the last run (the plan directory's summary.json), and "Run plan", which
// re-plans as a job (POST /plan/run) with a progress bar.
'use strict';
(() => {
  const {el} = CF;
  const DAY = 86400000;
  const DOW = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
  const state = {view: 'month', cursor: null};

  const num = (x, digits) => Number(x || 0).toLocaleString('en-US', {maximumFractionDigits: digits || 0});
  const iso = (d) => d.toISOString().slice(0, 10);
  const parse = (s) => new Date(s + 'T00:00:00Z');
  const mondayOf = (d) => new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY);

  // How the plan file states a campaign's volume, in words.
  function volumeText(v) {
    if (!v) return '';
    if (v.fixed !== undefined) return num(v.fixed) + ' customers';
    if (v.min_probability !== undefined) return 'probability ≥ ' + v.min_probability;
    if (v.capture_share !== undefined) return num(v.capture_share * 100, 1) + '% of expected buyers';
    return JSON.stringify(v);
  }

  function chip(c) {
    const planned = c.planned;
    const lines = [
      el('strong', {}, c.name),
      el('span', {}, c.channel + ' · ' + c.priority + ' priority'),
      el('br'),
      el('span', {}, planned ? num(planned.selected) + ' selected' : volumeText(c.volume)),
      planned ? [el('br'), el('span', {}, 'revenue ' + num(planned.expected_revenue, 2))] : null,
    ];
    return el('a', {class: 'chip ' + c.channel, href: '#/editor/' + encodeURIComponent(c.name),
      'aria-label': c.name + ', ' + c.channel + ', ' + c.send_date + ', priority ' + c.priority +
        (planned ? ', ' + planned.selected + ' selected, expected revenue ' + num(planned.expected_revenue, 2) : '')},
    lines);
  }

  function dayCell(date, inPlan, inMonth, byDate) {
    const key = iso(date);
    const cls = 'day' + (inPlan ? '' : ' outside') + (inMonth ? '' : ' blank');
    return el('div', {class: cls, 'data-date': key},
      el('div', {class: 'date'}, date.toLocaleDateString('en-US', {timeZone: 'UTC', weekday: 'short', day: 'numeric',
        month: 'short'})),
      (byDate[key] || []).map(chip));
  }

  function calendar(plan) {
    const start = parse(plan.start);
    const end = parse(plan.end);
    const byDate = {};
    for (const c of plan.campaigns) (byDate[c.send_date] = byDate[c.send_date] || []).push(c);
    const cursor = state.cursor || start;
    let first, days, title, month = null;
    if (state.view === 'week') {
      first = mondayOf(cursor);
      days = 7;
      title = 'Week of ' + first.toLocaleDateString('en-US', {timeZone: 'UTC', month: 'long', day: 'numeric',
        year: 'numeric'});
    } else {
      month = cursor.getUTCMonth();
      const firstOfMonth = new Date(Date.UTC(cursor.getUTCFullYear(), month, 1));
      first = mondayOf(firstOfMonth);
      const last = new Date(Date.UTC(cursor.getUTCFullYear(), month + 1, 0));
      days = Math.round((mondayOf(last).getTime() - first.getTime()) / DAY) + 7;
      title = firstOfMonth.toLocaleDateString('en-US', {timeZone: 'UTC', month: 'long', year: 'numeric'});
    }
    const cells = [];
    for (let i = 0; i < days; ++i) {
      const d = new Date(first.getTime() + i * DAY);
      const inPlan = d >= start && d <= end;
      cells.push(dayCell(d, inPlan, month === null || d.getUTCMonth() === month, byDate));
    }
    return {title, grid: el('div', {class: 'calendar ' + state.view, role: 'group', 'aria-label': title},
      DOW.map((x) => el('div', {class: 'dow', 'aria-hidden': 'true'}, x)), cells)};
  }

  function totals(plan) {
    const s = plan.summary;
    if (!s) {
      return el('p', {class: 'note'}, 'Not planned yet: "Run plan" allocates the customers and shows the totals here.');
    }
    const mpc = Object.entries(s.messages_per_customer || {}).map(([k, v]) => k + ' msg: ' + num(v)).join(', ');
    const ok = !s.violations;
    return el('div', {},
      el('div', {class: 'totals', 'aria-label': 'Plan totals'},
        el('div', {}, 'Campaigns planned', el('strong', {}, num(s.campaigns))),
        el('div', {}, 'Customers selected', el('strong', {}, num(s.selected))),
        el('div', {}, 'Holdout', el('strong', {}, num(s.holdout))),
        el('div', {}, 'Expected buyers', el('strong', {}, num(s.expected_buyers, 1))),
        el('div', {}, 'Expected revenue', el('strong', {id: 'plan-revenue'}, num(s.expected_revenue, 2))),
        el('div', {}, 'Pressure', el('strong', {class: ok ? 'ok' : 'bad', id: 'plan-pressure'},
          ok ? 'OK: no violations' : s.violations + ' violations'))),
      el('p', {class: 'note'}, 'Messages per customer: ' + (mpc || 'none') + '. Planned as of ' + s.as_of +
        ' by the ' + s.solver + ' solver.'),
      plan.stale ? el('p', {class: 'warning'}, 'The plan changed since the last run: "Run plan" to update the numbers.')
        : null);
  }

  function pressureRules(plan) {
    const rules = (plan.pressure || []).map((r) => {
      const parts = [];
      if (r.max_messages) parts.push('at most ' + r.max_messages + ' in ' + r.window_days + ' days');
      if (r.min_gap_days) parts.push(r.min_gap_days + ' days apart');
      return (r.channel || 'any channel') + ': ' + parts.join(', ');
    });
    return el('p', {class: 'note'}, 'Pressure rules: ' + (rules.length ? rules.join('; ') : 'none') + '.');
  }

  async function render(container) {
    const plan = await CF.api('GET', '/plan');
    if (!state.cursor) state.cursor = parse(plan.start);
    const error = CF.errorLine();
    const progress = CF.progressBar('Planning progress');
    const body = el('div');
    const draw = () => {
      const cal = calendar(plan);
      body.replaceChildren(
        el('div', {class: 'toolbar'},
          el('h2', {id: 'calendar-title'}, cal.title),
          el('div', {class: 'seg', role: 'group', 'aria-label': 'Calendar view'},
            ['month', 'week'].map((v) => el('button', {type: 'button', class: 'secondary',
              'aria-pressed': String(state.view === v), onclick: () => { state.view = v; draw(); }},
            v === 'month' ? 'Month' : 'Week'))),
          el('button', {type: 'button', class: 'secondary', 'aria-label': 'Previous ' + state.view,
            onclick: () => { step(-1); draw(); }}, '‹'),
          el('button', {type: 'button', class: 'secondary', 'aria-label': 'Next ' + state.view,
            onclick: () => { step(1); draw(); }}, '›')),
        cal.grid);
    };
    const step = (dir) => {
      const c = state.cursor;
      state.cursor = state.view === 'week' ? new Date(c.getTime() + dir * 7 * DAY)
        : new Date(Date.UTC(c.getUTCFullYear(), c.getUTCMonth() + dir, 1));
    };
    draw();
    const run = el('button', {type: 'button', id: 'run-plan'}, 'Run plan');
    run.addEventListener('click', () => CF.busy(run, 'Planning…', error, async () => {
      const {job_id: id} = await CF.api('POST', '/plan/run', {});
      await CF.waitJob(id, progress.update);
      CF.go('#/plan');
    }));
    const rows = plan.campaigns.map((c) => [
      el('a', {href: '#/editor/' + encodeURIComponent(c.name)}, c.name), c.channel, c.send_date,
      c.planned ? num(c.planned.selected) : volumeText(c.volume),
      c.planned ? num(c.planned.expected_revenue, 2) : '—', c.priority, el('code', {}, c.cohort_id)]);
    container.append(
      el('h1', {}, 'Campaign Plan'),
      el('p', {class: 'note'}, 'Plan "' + plan.name + '": ' + plan.start + ' to ' + plan.end + ' (' + plan.days +
        ' days), objective ' + plan.objective + '.'),
      pressureRules(plan),
      totals(plan),
      el('div', {class: 'actions'}, run, el('a', {href: '#/editor/new', class: 'button-link'}, 'New campaign')),
      progress, error,
      body,
      el('h2', {}, 'Campaigns'),
      CF.table(['Name', 'Channel', 'Send date', 'Volume', 'Expected revenue', 'Priority', 'Cohort id'], rows,
        'No campaigns yet: add one with "New campaign".'));
  }

  CF.pages.plan = {title: 'Campaign Plan', render};
})();
