// The engage console end to end, in Debian's chromium (headless) driven by playwright-core:
// a real `engage serve`, its admin command line, and the partner API called over HTTP as the
// partner would. Screenshots of every page go to $CF_ARTIFACTS (under build/).
//
// Environment: CF_BIN_DIR (the engage binary), CF_ARTIFACTS, CHROMIUM (the browser binary).
import {execFileSync} from 'node:child_process';
import {mkdtempSync, mkdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {test, after, before} from 'node:test';
import assert from 'node:assert/strict';
import * as consoles from './consoles.mjs';

const bin = join(process.env.CF_BIN_DIR, 'engage');
const artifacts = process.env.CF_ARTIFACTS;
mkdirSync(artifacts, {recursive: true});
const data = mkdtempSync(join(tmpdir(), 'engage-console-'));

function admin(...args) {
  return execFileSync(bin, [...args, '--data', data], {encoding: 'utf8'}).trim().split('\n').pop();
}

let server;
let base;
let browser;
let partnerKey;
let restKey;
const email = 'marketer@example.com';
let password;

async function startServer() {
  ({child: server, base} = await consoles.serve(bin, ['serve', '--data', data, '--listen', '127.0.0.1:0',
    '--log-level', 'warn']));
}

async function post(path, body, headers = {}) {
  const res = await fetch(base + path, {method: 'POST', headers: {'Content-Type': 'application/json', ...headers},
    body: JSON.stringify(body)});
  return {status: res.status, body: await res.json()};
}

before(async () => {
  partnerKey = admin('partner', 'add', '--partner', 'tinyclues', '--display-name', 'Tinyclues');
  restKey = admin('api-key', 'create', '--name', 'seed');
  password = admin('user', 'create', '--email', email);
  assert.match(password, /^[0-9a-f]{24}$/);
  await startServer();
  // Ten identified users; the partner will put four of them in a cohort.
  const attributes = [];
  for (let i = 1; i <= 10; ++i) attributes.push({external_id: 'u' + i, tier: i <= 5 ? 'gold' : 'silver'});
  const track = await post('/users/track', {attributes}, {Authorization: 'Bearer ' + restKey});
  assert.equal(track.status, 201, JSON.stringify(track.body));
  browser = await consoles.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  rmSync(data, {recursive: true, force: true});
});

const newPage = (viewport) => consoles.newPage(browser, viewport);
const signIn = (page) => consoles.signIn(page, base, email, password);
const shot = (page, name) => consoles.shot(page, artifacts, name);

test('sign in, key, cohort, segment, campaign, sends', {timeout: 120000}, async () => {
  const page = await newPage({width: 1280, height: 800});
  await page.goto(base + '/signin');
  await shot(page, 'engage-signin-1280');
  await signIn(page);

  // Partner Integrations > Technology Partners > Tinyclues.
  await page.getByRole('button', {name: 'Partner Integrations'}).click();
  await page.getByRole('link', {name: 'Technology Partners'}).click();
  await page.getByRole('link', {name: 'Tinyclues'}).click();
  await page.getByRole('heading', {name: 'Tinyclues', level: 1}).waitFor();
  assert.equal(await page.locator('#rest-endpoint').textContent(), base);
  await page.getByText('No key is active.').waitFor();
  await page.getByRole('button', {name: 'Generate new key'}).click();
  const keyBox = page.getByLabel('Data import key');
  await keyBox.waitFor();
  const importKey = await keyBox.inputValue();
  assert.match(importKey, /^[0-9a-f]{48}$/);
  await page.getByText(/A key is active since \d{4}-/).waitFor();
  await shot(page, 'engage-partner-1280');

  // The partner imports a cohort with the key shown.
  const auth = {partner_api_key: partnerKey, client_secret: importKey, cohort_id: 'c-1'};
  let r = await post('/partners/tinyclues/cohorts', {...auth, name: 'Sneaker fans', created_at: '2026-11-28T10:00:00Z'});
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const members = ['u1', 'u3', 'u5', 'u7'];
  r = await post('/partners/tinyclues/cohorts/users', {...auth, cohort_changes: [{user_ids: members}]});
  assert.equal(r.status, 201, JSON.stringify(r.body));

  // Regenerating warns first; cancelling keeps the key working.
  await page.getByRole('button', {name: 'Generate new key'}).click();
  await page.getByText('The current key stops working at once', {exact: false}).first().waitFor();
  await shot(page, 'engage-partner-regenerate-warning-1280');
  await page.getByRole('button', {name: 'Cancel'}).click();
  r = await post('/partners/tinyclues/cohorts/users', {...auth, cohort_changes: []});
  assert.equal(r.status, 201, 'the key still works after Cancel: ' + JSON.stringify(r.body));

  // A segment on the cohort: its live size is the imported count.
  await page.getByRole('link', {name: 'Segments'}).click();
  await page.getByRole('link', {name: 'Create segment'}).click();
  await page.getByLabel('Segment name').fill('Sneaker fans');
  await page.getByLabel('New filter').selectOption({label: 'Tinyclues Cohorts'});
  await page.getByRole('button', {name: 'Add filter'}).click();
  const picker = page.getByLabel('Tinyclues Cohorts', {exact: true});
  assert.deepEqual(await picker.locator('option').allTextContents(), ['Sneaker fans']);
  await picker.selectOption('Sneaker fans');
  await page.locator('#segment-size').getByText(members.length + ' users').waitFor();
  // AND with an attribute filter: the size follows, from the server's evaluator.
  await page.getByLabel('New filter').selectOption({label: 'Custom attribute'});
  await page.getByRole('button', {name: 'Add filter'}).click();
  await page.getByLabel('Attribute name').fill('tier');
  await page.getByLabel('Value').fill('gold');
  await page.locator('#segment-size').getByText('3 users').waitFor();
  await shot(page, 'engage-segment-builder-1280');
  await page.getByRole('button', {name: 'Remove filter'}).nth(1).click();
  await page.locator('#segment-size').getByText(members.length + ' users').waitFor();
  await page.getByRole('button', {name: 'Save segment'}).click();
  await page.getByRole('heading', {name: 'Segments', level: 1}).waitFor();
  const row = page.getByRole('row', {name: /Sneaker fans/});
  assert.equal(await row.getByRole('cell').nth(1).textContent(), String(members.length));
  await shot(page, 'engage-segments-1280');

  // A campaign on it, sent now: every member is sent (no control group, no cap).
  await page.getByRole('link', {name: 'Campaigns'}).click();
  await page.getByLabel('Campaign name').fill('Sneakers launch');
  await page.getByLabel('Segment').selectOption({label: 'Sneaker fans (' + members.length + ' users)'});
  await page.getByLabel('Channel').selectOption('email');
  await page.getByRole('button', {name: 'Create campaign'}).click();
  await page.getByRole('heading', {name: 'Sneakers launch', level: 1}).waitFor();
  await page.getByRole('button', {name: 'Send now'}).click();
  await page.locator('#send-counts').getByText('sent').waitFor();
  await page.getByText(members.length + ' send records').waitFor();
  const counts = Object.fromEntries((await page.locator('#send-counts > div').allInnerTexts())
    .map((t) => t.split('\n')).map(([n, k]) => [k.trim(), Number(n)]));
  assert.deepEqual(counts, {capped: 0, control: 0, sent: members.length});
  for (const id of members) await page.getByRole('cell', {name: id, exact: true}).waitFor();
  await shot(page, 'engage-campaign-sends-1280');

  // The user page shows the cohort and the send.
  await page.getByRole('link', {name: 'Users'}).click();
  await page.getByLabel('Value').fill('u3');
  await page.getByRole('button', {name: 'Look up'}).click();
  await page.getByRole('cell', {name: 'Sneaker fans'}).waitFor();
  await page.getByRole('cell', {name: 'Sneakers launch'}).waitFor();
  await page.getByRole('cell', {name: 'gold'}).waitFor();
  await shot(page, 'engage-user-1280');

  // Settings: a REST API key shown once, and a frequency cap.
  await page.getByRole('link', {name: 'Settings'}).click();
  await page.getByLabel('Key name').fill('crm export');
  await page.getByLabel('users.track', {exact: true}).check();
  await page.getByRole('button', {name: 'Create API key'}).click();
  const newKey = await page.getByLabel('REST API key').inputValue();
  const tracked = await post('/users/track', {attributes: [{external_id: 'u1', seen: true}]},
    {Authorization: 'Bearer ' + newKey});
  assert.equal(tracked.status, 201, 'the key created in the console works');
  await page.getByLabel('Max messages per user').fill('2');
  await page.getByLabel('In the last days').fill('7');
  await page.getByRole('button', {name: 'Set cap'}).click();
  await page.getByRole('button', {name: 'Remove the email cap'}).waitFor();
  await shot(page, 'engage-settings-1280');

  assert.deepEqual(page.errors, [], 'no console errors');

  // Sign out: the console is closed again.
  await page.getByRole('button', {name: 'Sign out'}).click();
  await page.waitForURL(base + '/signin');
  // A redirect keeps the fragment: /signin#/segments.
  await page.goto(base + '/#/segments');
  await page.waitForURL(base + '/signin#/segments');
  await page.getByRole('button', {name: 'Sign in'}).waitFor();
  await page.context().close();
});

test('every page at 390x844, keyboard only', {timeout: 60000}, async () => {
  const page = await newPage({width: 390, height: 844});
  await consoles.signInWithKeyboard(page, base, email, password);
  // The Partner Integrations menu opens and is followed with the keyboard.
  await page.getByRole('button', {name: 'Partner Integrations'}).focus();
  await page.keyboard.press('Enter');
  await page.keyboard.press('Enter');  // the menu focused its first entry: Technology Partners
  await page.getByRole('heading', {name: 'Technology Partners', level: 1}).waitFor();
  for (const [hash, heading] of [['#/partners', 'Technology Partners'], ['#/partners/tinyclues', 'Tinyclues'],
    ['#/segments', 'Segments'], ['#/segments/new', 'Create segment'], ['#/campaigns', 'Campaigns'],
    ['#/users', 'Users'], ['#/settings', 'Settings']]) {
    await page.goto(base + '/' + hash);
    await page.getByRole('heading', {name: heading, level: 1}).waitFor();
    await shot(page, 'engage-' + hash.slice(2).replace('/', '-') + '-390');
  }
  assert.deepEqual(page.errors, [], 'no console errors');
  await page.context().close();
});

test('a wrong password is refused and named', {timeout: 60000}, async () => {
  const page = await newPage({width: 1280, height: 800});
  await page.goto(base + '/signin');
  await page.getByLabel('Email').fill('nobody@example.com');
  await page.getByLabel('Password').fill('wrong');
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByRole('alert').getByText('wrong email or password').waitFor();
  assert.equal(page.url(), base + '/signin');
  await page.context().close();
});
