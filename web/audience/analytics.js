// The Analytics pages: the campaign report (`audience report`: uplift against each campaign's
// holdout, online and offline, with intervals; the decile table) and the model page (gains
// curves, deciles and calibration of the last backtest, `audience evaluate --json-out`). The
// server computes every figure; the charts here only place the numbers it answers.
'use strict';

(function () {
  const el = (...a) => CF.el(...a);
  const SVG_NS = 'http://www.w3.org/2000/svg';
  // Pixels: small charts keep their text readable at 1280 and fit at 390 (no inline styles allowed).
  const CHART_WIDTH = 340;
  const COLORS = ['#2f5bd3', '#c2571a', '#1e7b34', '#7b3fb3', '#5b6275', '#b3261e'];

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return node;
  }

  const num = (v, digits) => (v === null || v === undefined) ? '–'
    : Number(v).toLocaleString('en-US', {maximumFractionDigits: digits, minimumFractionDigits: digits});

  function table(label, headers, rows) {
    return el('div', {class: 'table-wrap'},
      el('table', {'aria-label': label},
        el('thead', {}, el('tr', {}, headers.map((x) => el('th', {scope: 'col'}, x)))),
        el('tbody', {}, rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c)))))));
  }

  // Horizontal intervals around a zero line: rows of {label, estimate, ci_low, ci_high}.
  function intervalChart(title, rows, digits) {
    const width = 640, rowHeight = 34, left = 150, right = 20, top = 10;
    const height = top + rows.length * rowHeight + 24;
    const values = rows.flatMap((r) => [r.ci_low, r.ci_high, r.estimate, 0]).filter((v) => v !== null && v !== undefined);
    let lo = Math.min(...values), hi = Math.max(...values);
    if (lo === hi) { lo -= 1; hi += 1; }
    const x = (v) => left + (v - lo) / (hi - lo) * (width - left - right);
    const parts = [svg('line', {x1: x(0), x2: x(0), y1: top - 4, y2: height - 20, stroke: '#9aa1b1', 'stroke-dasharray': '4 3'}),
      svg('text', {x: x(0), y: height - 6, 'text-anchor': 'middle', 'font-size': 12, fill: '#5b6275'}, '0')];
    rows.forEach((r, i) => {
      const y = top + i * rowHeight + rowHeight / 2;
      parts.push(svg('text', {x: 4, y: y + 4, 'font-size': 13, fill: '#1d2230'}, r.label));
      if (r.estimate === null || r.estimate === undefined) {
        parts.push(svg('text', {x: left, y: y + 4, 'font-size': 12, fill: '#5b6275'}, 'not measurable'));
        return;
      }
      const color = r.significant ? '#1e7b34' : '#5b6275';
      if (r.ci_low !== null && r.ci_high !== null) {
        parts.push(svg('line', {x1: x(r.ci_low), x2: x(r.ci_high), y1: y, y2: y, stroke: color, 'stroke-width': 3}));
      }
      parts.push(svg('circle', {cx: x(r.estimate), cy: y, r: 5, fill: color}),
        svg('text', {x: x(r.estimate), y: y - 9, 'text-anchor': 'middle', 'font-size': 11, fill: color}, num(r.estimate, digits)));
    });
    return el('figure', {class: 'chart'},
      svg('svg', {viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-label': title}, parts),
      el('figcaption', {class: 'note'}, title + ': estimate and interval; green where the interval excludes 0.'));
  }

  const interval = (label, v) => Object.assign({label}, v || {estimate: null});

  function campaignSection(c, confidence) {
    const groups = ['treated', 'holdout'].map((g) => [g === 'treated' ? 'Treated' : 'Holdout',
      num(c[g].customers, 0), num(c[g].buyers, 0), num(c[g].revenue, 2), num(c[g].online_revenue, 2), num(c[g].offline_revenue, 2)]);
    const ci = Math.round(100 * confidence) + '% interval';
    return el('section', {'aria-label': 'Campaign ' + c.name},
      el('h2', {}, c.name),
      el('p', {class: 'note'}, c.channel + ' · sent ' + c.send_date + ' · window ' + c.window_days + ' days · offer ', el('code', {}, c.offer || 'any')),
      el('p', {class: 'size'}, c.headline),
      table('Treated against holdout: ' + c.name, ['Group', 'Customers', 'Buyers', 'Revenue', 'Online revenue', 'Offline revenue'], groups),
      intervalChart('Incremental buyers (' + ci + ')', [interval('Buyers', c.incremental_buyers)], 0),
      intervalChart('Incremental revenue (' + ci + ')', [interval('All channels', c.incremental_revenue),
        interval('Online', c.incremental_online_revenue), interval('Offline (stores)', c.incremental_offline_revenue)], 2));
  }

  async function renderReport(container) {
    const r = await CF.api('GET', '/analytics/report');
    if (!r.available) {
      container.append(el('p', {class: 'warning'}, r.message));
      return;
    }
    container.append(el('p', {class: 'note'}, 'Plan ' + r.plan + ': each campaign against its own holdout. ' + (r.methods || '')));
    for (const w of r.warnings || []) container.append(el('p', {class: 'warning'}, w));
    for (const c of r.campaigns) container.append(campaignSection(c, r.confidence));
    if (r.total && r.total.deciles) {
      container.append(el('h2', {}, 'Deciles of the whole plan'),
        table('Decile table', ['Decile', 'Treated customers', 'Predicted buyers', 'Treated buyers', 'Holdout customers', 'Holdout buyers'],
          r.total.deciles.map((d) => [String(d.decile), num(d.treated_customers, 0), num(d.predicted_buyers, 1),
            num(d.treated_buyers, 0), num(d.holdout_customers, 0), num(d.holdout_buyers, 0)])));
    }
  }

  // Cumulative gains: one line per model over the share of customers by score.
  function gainsChart(models) {
    const size = 360, pad = 36;
    const x = (t) => pad + t * (size - 2 * pad), y = (g) => size - pad - g * (size - 2 * pad);
    const parts = [svg('rect', {x: pad, y: pad, width: size - 2 * pad, height: size - 2 * pad, fill: 'none', stroke: '#d6d9e0'}),
      svg('line', {x1: x(0), y1: y(0), x2: x(1), y2: y(1), stroke: '#9aa1b1', 'stroke-dasharray': '4 3'}),
      svg('text', {x: size / 2, y: size - 6, 'text-anchor': 'middle', 'font-size': 12}, 'share of customers, best scores first'),
      svg('text', {x: 12, y: size / 2, 'font-size': 12, transform: `rotate(-90 12 ${size / 2})`, 'text-anchor': 'middle'}, 'share of buyers')];
    const legend = [];
    models.forEach(([name, m], i) => {
      if (!m.gains || !m.gains.length) return;
      const n = m.gains.length - 1;
      const points = m.gains.map((g, k) => `${x(k / n).toFixed(1)},${y(g).toFixed(1)}`).join(' ');
      parts.push(svg('polyline', {points, fill: 'none', stroke: COLORS[i % COLORS.length], 'stroke-width': 2}));
      // A swatch drawn in SVG: the console's policy allows no inline style attributes.
      legend.push(el('span', {class: 'legend'},
        svg('svg', {width: 12, height: 12, viewBox: '0 0 12 12', 'aria-hidden': 'true'},
          svg('rect', {width: 12, height: 12, fill: COLORS[i % COLORS.length]})), ' ', name, ' '));
    });
    return el('figure', {class: 'chart'},
      svg('svg', {viewBox: `0 0 ${size} ${size}`, width: CHART_WIDTH, class: 'chart-square', role: 'img', 'aria-label': 'Cumulative gains curves'}, parts),
      el('figcaption', {class: 'note'}, legend, ' — the dashed line is a random order.'));
  }

  // The share of buyers per score decile of one model, as bars.
  function decileBars(name, deciles) {
    const width = 420, height = 200, pad = 28, bw = (width - 2 * pad) / deciles.length;
    const top = Math.max(...deciles, 0.1);
    const parts = deciles.map((d, i) => {
      const h = d / top * (height - 2 * pad);
      return svg('g', {},
        svg('rect', {x: pad + i * bw + 2, y: height - pad - h, width: bw - 4, height: h, fill: '#2f5bd3'}),
        svg('text', {x: pad + i * bw + bw / 2, y: height - pad + 14, 'text-anchor': 'middle', 'font-size': 11}, String(i + 1)),
        svg('text', {x: pad + i * bw + bw / 2, y: height - pad - h - 4, 'text-anchor': 'middle', 'font-size': 10}, num(100 * d, 0) + '%'));
    });
    return el('figure', {class: 'chart'},
      svg('svg', {viewBox: `0 0 ${width} ${height}`, width: CHART_WIDTH, class: 'chart-bars', role: 'img', 'aria-label': 'Buyers per score decile of ' + name}, parts),
      el('figcaption', {class: 'note'}, 'Share of buyers per score decile of ' + name + ' (1 = the best tenth).'));
  }

  async function renderModel(container) {
    const b = await CF.api('GET', '/analytics/model');
    if (!b.available) {
      container.append(el('p', {class: 'warning'}, b.message));
      return;
    }
    const models = Object.entries(b.models);
    container.append(el('p', {class: 'note'}, 'Backtest at ' + b.cutoff + ' over ' + num(b.population, 0) + ' customers, ' +
      b.topics + ' offers by ' + b.topics_by + ', horizon ' + b.horizon_days + ' days.'),
      table('Models', ['Model', 'AUC', 'Average precision', 'Lift at 10%', 'Lift quality'],
        models.map(([name, m]) => [name, num(m.auc, 3), num(m.average_precision, 3), num(m.lift_at_10, 2), num(m.lift_quality, 3)])),
      el('h2', {}, 'Gains'), gainsChart(models),
      el('h2', {}, 'Deciles'));
    const main = models.find(([name]) => name === 'universal') || models[0];
    if (main && main[1].deciles) container.append(decileBars(main[0], main[1].deciles));
    // One row per decile, one column per model: narrow enough for a phone.
    container.append(table('Share of buyers per decile', ['Decile'].concat(models.map(([name]) => name)),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map((d) => [String(d)].concat(models.map(([, m]) =>
        m.deciles && m.deciles[d - 1] !== undefined ? num(100 * m.deciles[d - 1], 1) + '%' : '–')))));
    const calibrated = models.filter(([, m]) => m.calibration_by_kind);
    container.append(el('h2', {}, 'Calibration'));
    if (!calibrated.length) container.append(el('p', {class: 'note'}, 'No calibrated model in this backtest.'));
    for (const [name, m] of calibrated) {
      container.append(table('Calibration of ' + name, ['Model', 'Offers of kind', 'Offers', 'Predicted buyers', 'Realized buyers'],
        m.calibration_by_kind.map((c) => [name, c.kind, num(c.offers, 0), num(c.predicted_buyers, 1), num(c.realized_buyers, 0)])));
    }
  }

  CF.pages.analytics = {
    title: 'Analytics',
    render(container, arg) {
      const onModel = arg === 'model';
      container.append(el('h1', {}, onModel ? 'Model' : 'Campaign report'),
        el('nav', {'aria-label': 'Analytics pages', class: 'tabs'},
          el('a', {href: '#/analytics', 'aria-current': onModel ? null : 'page'}, 'Campaign report'), ' · ',
          el('a', {href: '#/analytics/model', 'aria-current': onModel ? 'page' : null}, 'Model')));
      return onModel ? renderModel(container) : renderReport(container);
    },
  };
})();
