// The flow across both consoles, in Debian's chromium (headless) driven by playwright-core:
// a real `engage serve` and a real `audience serve` on a small generated retailer. Sign in to
// engage and generate a data import key; save it in the audience console's settings; create a
// campaign in the audience editor and move the slider; run the plan; export; then in engage see
// the cohort in the "Tinyclues Cohorts" picker, build a segment whose size is the exported count,
// create and send a campaign and see its sends. Screenshots of each page go to $CF_ARTIFACTS.
//
// Environment: CF_BIN_DIR (the engage and audience binaries), CF_ARTIFACTS, CHROMIUM.
import {execFileSync} from 'node:child_process';
import {mkdtempSync, mkdirSync, rmSync, writeFileSync, readFileSync, statSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {test, after, before} from 'node:test';
import assert from 'node:assert/strict';
import * as consoles from './consoles.mjs';

const engageBin = join(process.env.CF_BIN_DIR, 'engage');
const audienceBin = join(process.env.CF_BIN_DIR, 'audience');
const artifacts = process.env.CF_ARTIFACTS;
mkdirSync(artifacts, {recursive: true});
const dir = mkdtempSync(join(tmpdir(), 'full-flow-'));
const store = join(dir, 'engage');
const email = 'marketer@example.com';
const campaignName = 'Flow campaign';

const run = (bin, ...args) => execFileSync(bin, args, {encoding: 'utf8'}).trim().split('\n').pop();
const engage = (...args) => run(engageBin, ...args, '--data', store);
const audience = (...args) => run(audienceBin, ...args);

const servers = [];
let browser, engageBase, audienceBase, audienceArgs, partnerKey, engagePassword, audiencePassword;

async function serve(bin, args) {
  const {child, base} = await consoles.serve(bin, args);
  servers.push(child);
  return base;
}

before(async () => {
  // A small retailer (400 customers, 120 days to 2025-04-30), its model and an empty week's plan.
  audience('generate', '--quiet', '--customers', '400', '--products', '30', '--days', '120', '--seed', '3',
    '--out', join(dir, 'raw'));
  audience('ingest', '--quiet', '--events', join(dir, 'raw/purchases.csv'), '--products', join(dir, 'raw/products.csv'),
    '--customers', join(dir, 'raw/customers.csv'), '--out', join(dir, 'ds'));
  audience('train', '--quiet', '--data', join(dir, 'ds'), '--horizon', '30', '--out', join(dir, 'model'));
  audience('evaluate', '--quiet', '--data', join(dir, 'ds'), '--cutoff', '2025-03-01', '--json-out', join(dir, 'backtest.json'));
  audience('campaign', 'init', '--plan', join(dir, 'plan.json'), '--name', 'Flow week', '--start', '2025-05-01');
  audiencePassword = audience('user', 'create', '--users', join(dir, 'users.json'), '--email', email);

  // engage: the partner, a dashboard user, and the retailer's identified customers as profiles.
  partnerKey = engage('partner', 'add', '--partner', 'tinyclues', '--display-name', 'Tinyclues');
  engagePassword = engage('user', 'create', '--email', email);
  const rows = readFileSync(join(dir, 'raw/customers.csv'), 'utf8').trim().split('\n').slice(1)
    .map((l) => l.split(',')[1]).filter((id) => id);
  writeFileSync(join(dir, 'users.csv'), 'external_id\n' + rows.join('\n') + '\n');
  engage('users', 'import', '--csv', join(dir, 'users.csv'));

  engageBase = await serve(engageBin, ['serve', '--data', store, '--listen', '127.0.0.1:0', '--log-level', 'warn']);
  audienceArgs = ['serve', '--data', join(dir, 'ds'), '--model', join(dir, 'model'), '--plan', join(dir, 'plan.json'),
    '--plan-dir', join(dir, 'plan'), '--users', join(dir, 'users.json'), '--backtest', join(dir, 'backtest.json'),
    '--listen', '127.0.0.1:0', '--log-level', 'warn'];
  audienceBase = await serve(audienceBin, audienceArgs);
  browser = await consoles.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  for (const s of servers) s.kill('SIGTERM');
  rmSync(dir, {recursive: true, force: true});
});

const newPage = (viewport) => consoles.newPage(browser, viewport);
// Signs in and waits for the first page (the Campaign Plan) to be drawn whole before the test
// moves on, so that no screenshot catches it half-drawn.
async function signIn(page, base, password) {
  await consoles.signIn(page, base, email, password);
  if (base !== engageBase) await page.getByRole('button', {name: 'Run plan'}).waitFor();
}
const shot = (page, name) => consoles.shot(page, artifacts, name);

test('from a data import key to sends, across both consoles', {timeout: 90000}, async () => {
  // engage: Technology Partners > Tinyclues > Generate new key.
  const eng = await newPage({width: 1280, height: 800});
  await signIn(eng, engageBase, engagePassword);
  await eng.goto(engageBase + '/#/partners/tinyclues');
  await eng.getByRole('heading', {name: 'Tinyclues', level: 1}).waitFor();
  await eng.getByRole('button', {name: 'Generate new key'}).click();
  const importKey = await eng.getByLabel('Data import key').inputValue();
  assert.match(importKey, /^[0-9a-f]{48}$/);
  await shot(eng, 'flow-engage-key');

  // audience: Settings > Engagement platform: endpoint and keys saved, the keys never shown again.
  const aud = await newPage({width: 1280, height: 800});
  await signIn(aud, audienceBase, audiencePassword);
  await aud.goto(audienceBase + '/#/settings');
  await aud.getByLabel('Endpoint').fill(engageBase);
  await aud.getByLabel('Partner API key').fill(partnerKey);
  await aud.getByLabel('Data import key').fill(importKey);
  await aud.getByRole('button', {name: 'Save engagement platform'}).click();
  await aud.getByText('Saved. Exports go to').waitFor();
  assert.equal(await aud.getByLabel('Data import key').inputValue(), '');
  await aud.reload();
  await aud.getByLabel('Endpoint').waitFor();
  assert.equal(await aud.getByLabel('Endpoint').inputValue(), engageBase);
  assert.ok(!(await aud.content()).includes(importKey), 'the key is not in the page after saving');
  assert.ok(!(await aud.content()).includes(partnerKey));
  assert.equal(statSync(join(dir, 'audience-settings.json')).mode & 0o777, 0o600);
  await shot(aud, 'flow-audience-settings');

  // audience: New campaign, the audience slider moved, saved; the plan run.
  await aud.goto(audienceBase + '/#/editor/new');
  await aud.getByLabel('Name', {exact: true}).fill(campaignName);
  const slider = aud.getByRole('slider', {name: 'Audience size'});
  await aud.getByText(/eligible customers of/).waitFor();  // the curve is loaded: the slider has its stops
  await slider.focus();
  for (let i = 0; i < 5; ++i) await aud.keyboard.press('ArrowRight');
  await aud.getByText(/^Volume: at most \d/).waitFor();
  await shot(aud, 'flow-audience-editor');
  await aud.getByRole('button', {name: 'Save campaign'}).click();
  await aud.getByRole('link', {name: 'Export details'}).waitFor().catch(async (e) => {
    await shot(aud, 'flow-audience-editor-not-saved');
    throw e;
  });
  await aud.goto(audienceBase + '/#/plan');
  await aud.getByRole('button', {name: 'Run plan'}).click();
  await aud.getByText(/Planned as of/).waitFor({timeout: 30000});
  await shot(aud, 'flow-audience-plan');

  // audience: Export the campaign; its counts come back per campaign.
  await aud.goto(audienceBase + '/#/export');
  await aud.getByRole('checkbox', {name: campaignName}).check();
  await shot(aud, 'flow-audience-export-selected');
  await aud.getByRole('button', {name: 'Export campaigns'}).click();
  const row = aud.getByRole('table', {name: 'Export progress per campaign'}).getByRole('row', {name: new RegExp(campaignName)});
  await row.getByRole('cell', {name: 'Exported', exact: true}).waitFor({timeout: 30000});
  const added = Number((await row.locator('[data-count="added"]').textContent()).replace(/,/g, ''));
  const exportFileName = await row.getByRole('cell').nth(1).textContent();
  assert.ok(added > 0, 'some customers were added to the cohort');
  await shot(aud, 'flow-audience-export-done');
  await aud.getByRole('link', {name: 'Export details of ' + campaignName}).click();
  await aud.getByText('Cohort id').waitFor();
  await aud.getByText(String(added)).first().waitFor();
  await shot(aud, 'flow-audience-export-details');

  // engage: the cohort in the picker; a segment on it has the exported size.
  await eng.goto(engageBase + '/#/segments/new');
  await eng.getByLabel('Segment name').fill('Flow segment');
  await eng.getByLabel('New filter').selectOption({label: 'Tinyclues Cohorts'});
  await eng.getByRole('button', {name: 'Add filter'}).click();
  const picker = eng.getByLabel('Tinyclues Cohorts', {exact: true});
  assert.ok((await picker.locator('option').allTextContents()).includes(exportFileName));
  await picker.selectOption(exportFileName);
  await eng.locator('#segment-size').getByText(added.toLocaleString('en-US') + ' users').waitFor();
  await shot(eng, 'flow-engage-segment');
  await eng.getByRole('button', {name: 'Save segment'}).click();
  await eng.getByRole('heading', {name: 'Segments', level: 1}).waitFor();

  // engage: a campaign on the segment, sent now, with its sends.
  await eng.getByRole('link', {name: 'Campaigns'}).click();
  // Named as in the plan: the report joins engage's send records to the plan's campaigns by name.
  await eng.getByLabel('Campaign name').fill(campaignName);
  await eng.getByLabel('Segment').selectOption({label: 'Flow segment (' + added + ' users)'});
  await eng.getByLabel('Channel').selectOption('email');
  await eng.getByRole('button', {name: 'Create campaign'}).click();
  await eng.getByRole('heading', {name: campaignName, level: 1}).waitFor();
  await eng.getByRole('button', {name: 'Send now'}).click();
  await eng.getByText(added + ' send records').waitFor();
  await shot(eng, 'flow-engage-sends');

  // audience: Opportunities; "Create campaign" opens the editor with the offer filled in.
  await aud.goto(audienceBase + '/#/opportunities');
  await aud.getByRole('table', {name: 'Opportunities'}).waitFor({timeout: 30000});
  await shot(aud, 'flow-audience-opportunities');
  const create = aud.getByRole('button', {name: /^Create campaign for /}).first();
  const value = (await create.getAttribute('aria-label')).replace('Create campaign for ', '');
  await create.click();
  await aud.getByRole('heading', {name: 'New campaign', level: 1}).waitFor();
  assert.equal(await aud.getByLabel('Name', {exact: true}).inputValue(), value);
  assert.equal(await aud.getByLabel('Offer expression').inputValue(), 'category = "' + value + '"');
  await shot(aud, 'flow-audience-editor-from-opportunity');

  // audience: Analytics. No sends file given: the report says so; the model page draws the backtest.
  await aud.goto(audienceBase + '/#/analytics');
  await aud.getByText('No sends yet').waitFor();
  await aud.getByRole('link', {name: 'Model'}).click();
  await aud.getByRole('img', {name: 'Cumulative gains curves'}).waitFor();
  await aud.getByRole('table', {name: 'Calibration of universal'}).waitFor();
  await shot(aud, 'flow-audience-model');

  // The loop closes: engage's send records and the purchases since (simulated) given to a
  // restarted console, whose report measures the campaign against its holdout.
  engage('campaign', 'sends', '--out', join(dir, 'sends.jsonl'));
  audience('simulate', '--quiet', '--raw', join(dir, 'raw'), '--plan-dir', join(dir, 'plan'), '--sends',
    join(dir, 'sends.jsonl'), '--days', '21', '--seed', '5', '--out', join(dir, 'later'));
  const reported = await serve(audienceBin, [...audienceArgs, '--sends', join(dir, 'sends.jsonl'),
    '--purchases', join(dir, 'later/purchases.csv')]);
  const rep = await newPage({width: 1280, height: 800});
  await signIn(rep, reported, audiencePassword);
  await rep.goto(reported + '/#/analytics');
  await rep.getByRole('heading', {name: campaignName, level: 2}).waitFor({timeout: 30000});
  await rep.getByRole('table', {name: 'Treated against holdout: ' + campaignName}).waitFor();
  await rep.getByRole('img', {name: /^Incremental buyers/}).waitFor();
  await rep.getByRole('table', {name: 'Decile table'}).waitFor();
  await shot(rep, 'flow-audience-analytics-report');
  assert.deepEqual(rep.errors, [], 'no console errors on the report');

  assert.deepEqual(eng.errors, [], 'no console errors in engage');
  assert.deepEqual(aud.errors, [], 'no console errors in audience');
});

test('export, opportunities and analytics at 390x844 with the keyboard', {timeout: 60000}, async () => {
  const page = await newPage({width: 390, height: 844});
  await consoles.signInWithKeyboard(page, audienceBase, email, audiencePassword);
  await page.getByRole('button', {name: 'Run plan'}).waitFor();
  // Export again from the keyboard: nothing changed since, so nothing is sent.
  await page.goto(audienceBase + '/#/export');
  const box = page.getByRole('checkbox', {name: campaignName});
  await box.focus();
  await page.keyboard.press('Space');
  assert.ok(await box.isChecked());
  await page.getByRole('button', {name: 'Export campaigns'}).focus();
  await page.keyboard.press('Enter');
  const row = page.getByRole('table', {name: 'Export progress per campaign'}).getByRole('row', {name: new RegExp(campaignName)});
  await row.getByRole('cell', {name: 'Exported', exact: true}).waitFor({timeout: 30000});
  assert.equal(await row.locator('[data-count="sent"]').textContent(), '0');
  await shot(page, 'flow-export-390');
  for (const [hash, heading] of [['#/opportunities', 'Opportunities'], ['#/analytics', 'Campaign report'],
    ['#/analytics/model', 'Model'], ['#/settings', 'Settings']]) {
    await page.goto(audienceBase + '/' + hash);
    await page.getByRole('heading', {name: heading, level: 1}).waitFor();
    if (hash === '#/opportunities') await page.getByRole('table', {name: 'Opportunities'}).waitFor({timeout: 30000});
    if (hash === '#/settings') await page.getByLabel('Endpoint').waitFor();
    await shot(page, 'flow-' + hash.slice(2).replace('/', '-') + '-390');
  }
  assert.deepEqual(page.errors, [], 'no console errors');
  await page.context().close();
});
