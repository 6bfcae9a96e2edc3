// Settings: the console's own configuration (read-only: it comes from `audience serve`'s flags;
// users are managed with `audience user`), then each section other page scripts registered in
// CF.settingsSections (export.js: the engagement platform).
'use strict';
CF.pages.settings = {
  title: 'Settings',
  async render(container) {
    const {el} = CF;
    container.append(el('h1', {}, 'Settings'));
    const cfg = await CF.api('GET', '/settings/console');
    const rows = [
      ['Dataset', cfg.data], ['Model', cfg.model], ['Plan file', cfg.plan], ['Plan directory', cfg.plan_dir],
      ['Users file', cfg.users], ['Customers', String(cfg.customers)], ['Products', String(cfg.products)],
      ['Model horizon (days)', String(cfg.horizon_days)], ['Curve points', String(cfg.curve_points)],
    ];
    container.append(el('section', {'aria-labelledby': 'console-settings'},
      el('h2', {id: 'console-settings'}, 'Audience console'),
      CF.table(['Setting', 'Value'], rows.map(([k, v]) => [k, el('code', {}, v)])),
      el('p', {class: 'note'}, 'These come from the flags of audience serve. Users are managed on the command line: ',
        el('code', {}, 'audience user create --users FILE --email E'), '.')));
    for (const section of CF.settingsSections || []) {
      const box = el('section', {'aria-label': section.title});
      container.append(box);
      try {
        await section.render(box);
      } catch (e) {
        box.append(el('p', {class: 'error', role: 'alert'}, e.message));
      }
    }
  },
};
