// The audience console end to end, in Debian's chromium (headless) driven by playwright-core:
// a real `audience serve` over a small generated retailer (generate, ingest, train), its `user`
// command, and the plan file checked with `audience campaign list`. Screenshots of every page at
// 1280x800 and 390x844 go to $CF_ARTIFACTS (under build/).
//
// Environment: CF_BIN_DIR (the audience binary), CF_ARTIFACTS, CHROMIUM (the browser binary).
import {execFileSync} from 'node:child_process';
import {mkdtempSync, mkdirSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {test, after, before} from 'node:test';
import assert from 'node:assert/strict';
import * as consoles from './consoles.mjs';

const bin = join(process.env.CF_BIN_DIR, 'audience');
const artifacts = process.env.CF_ARTIFACTS;
mkdirSync(artifacts, {recursive: true});
const dir = mkdtempSync(join(tmpdir(), 'audience-console-'));
const plan = join(dir, 'plan.json');
const users = join(dir, 'users.json');
const email = 'marketer@example.com';

function audience(...args) {
  return execFileSync(bin, args, {encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit']});
}

let server;
let base;
let browser;
let password;

before(async () => {
  audience('generate', '--quiet', '--customers', '2000', '--products', '60', '--days', '150', '--seed', '21',
    '--out', join(dir, 'raw'));
  audience('ingest', '--quiet', '--events', join(dir, 'raw/purchases.csv'), '--products',
    join(dir, 'raw/products.csv'), '--customers', join(dir, 'raw/customers.csv'), '--out', join(dir, 'ds'));
  audience('train', '--quiet', '--data', join(dir, 'ds'), '--horizon', '30', '--train-cutoffs', '2',
    '--sample-rows', '30000', '--out', join(dir, 'model'));
  audience('campaign', 'init', '--plan', plan, '--name', 'Browser week', '--start', '2026-12-07',
    '--pressure', 'email:max=1/7d');
  audience('campaign', 'add', '--plan', plan, '--name', 'Everyone email', '--offer', 'any', '--channel', 'email',
    '--send-date', '2026-12-08', '--fixed', '400');
  password = audience('user', 'create', '--users', users, '--email', email).trim().split('\n').pop();
  assert.match(password, /^[0-9a-f]{24}$/);
  ({child: server, base} = await consoles.serve(bin, ['serve', '--data', join(dir, 'ds'), '--model',
    join(dir, 'model'), '--plan', plan, '--plan-dir', join(dir, 'plandir'), '--users', users, '--listen',
    '127.0.0.1:0', '--threads', '2', '--curve-points', '50', '--log-level', 'warn']));
  browser = await consoles.launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) server.kill('SIGTERM');
  rmSync(dir, {recursive: true, force: true});
});

const newPage = (viewport) => consoles.newPage(browser, viewport);
const shot = (page, name) => consoles.shot(page, artifacts, name);

// Every visible control can take the keyboard focus and has a label (visible or aria-label).
async function checkControls(page, name) {
  const problems = await page.evaluate(() => {
    const out = [];
    for (const e of document.querySelectorAll('main a, main button, main input, main select, main textarea')) {
      if (!e.offsetParent && e.tagName !== 'INPUT') continue;  // hidden
      const label = e.getAttribute('aria-label') || (e.labels && e.labels.length ? e.labels[0].textContent : '') ||
        e.textContent;
      if (!label || !label.trim()) out.push(e.outerHTML.slice(0, 80) + ': no label');
      if (e.tabIndex < 0) out.push(e.outerHTML.slice(0, 80) + ': not focusable');
    }
    return out;
  });
  assert.deepEqual(problems, [], name);
}

async function signIn(page) {
  await consoles.signIn(page, base, email, password);
  await page.getByRole('heading', {name: 'Campaign Plan', level: 1}).waitFor();
}

const numberOf = async (locator) => Number((await locator.textContent()).replace(/[^0-9.]/g, ''));

test('create a campaign in the editor, size it with the slider, run the plan', {timeout: 180000}, async () => {
  const page = await newPage({width: 1280, height: 800});
  await page.goto(base + '/signin');
  await shot(page, 'audience-signin-1280');
  await signIn(page);
  await page.locator('.chip', {hasText: 'Everyone email'}).waitFor();
  await shot(page, 'audience-plan-1280');

  // New campaign: the offer from the pickers, its live count from the server.
  await page.getByRole('link', {name: 'New campaign'}).first().click();
  await page.getByRole('heading', {name: 'New campaign', level: 1}).waitFor();
  await page.getByLabel('Name', {exact: true}).fill('Browser pick');
  const offerBuilder = page.getByRole('group', {name: 'Offer builder'});
  const attribute = offerBuilder.getByLabel('Attribute');
  const values = offerBuilder.getByLabel('Values');
  const firstValue = await values.locator('option').first().getAttribute('value');
  await values.selectOption(firstValue);
  await offerBuilder.getByRole('button', {name: 'Add condition'}).click();
  const expression = await page.getByLabel('Offer expression').inputValue();
  assert.equal(expression, (await attribute.inputValue()) + ' = ' + JSON.stringify(firstValue));
  // The count is fetched after a pause in typing: until it comes, the element still shows the
  // previous offer's count (all 60 products), so wait for the condition's own.
  await page.waitForFunction(() => {
    const m = /^(\d[\d,]*) products$/.exec(document.getElementById('offer-count').textContent);
    return m !== null && Number(m[1].replace(/,/g, '')) < 60;
  });
  const products = await numberOf(page.locator('#offer-count'));
  assert.ok(products > 0 && products < 60, 'the offer selects some products: ' + products);
  await page.getByLabel('Channel').selectOption('push');
  await page.getByLabel('Send date').fill('2026-12-10');
  await page.getByLabel('Priority').selectOption('high');
  await page.getByLabel('Holdout share').fill('0.2');
  await page.getByLabel('Export file name').fill('Browser pick - week 50');

  // The slider reads the curve's points: moving it changes the numbers and sets the volume.
  const slider = page.getByRole('slider', {name: 'Audience size'});
  // The slider holds the points of this offer's curve (not of the "any" it started with).
  await page.waitForFunction((offer) => {
    const s = document.getElementById('audience-size');
    return !s.disabled && s.dataset.offer === offer;
  }, expression);
  const sizeBefore = await numberOf(page.locator('#curve-size'));
  const revenueBefore = await numberOf(page.locator('#curve-revenue'));
  await slider.focus();
  for (let i = 0; i < 5; ++i) await page.keyboard.press('ArrowRight');
  await page.waitForFunction((before) => Number(document.getElementById('curve-size').textContent
    .replace(/[^0-9]/g, '')) > before, sizeBefore);
  const size = await numberOf(page.locator('#curve-size'));
  assert.ok(await numberOf(page.locator('#curve-revenue')) > revenueBefore, 'expected revenue grows with the size');
  for (const id of ['#curve-buyers', '#curve-share', '#curve-lift']) {
    assert.match(await page.locator(id).textContent(), /\d/, id);
  }
  await page.locator('#volume-note').getByText('Volume: at most ' + size.toLocaleString('en-US') + ' customers.')
    .waitFor();
  await checkControls(page, 'editor');
  await shot(page, 'audience-editor-1280');

  // A bad edit shows the library's message and leaves the file as it was.
  await page.getByLabel('Send date').fill('2026-12-20');
  const errorsBefore = page.errors.length;
  await page.getByRole('button', {name: 'Save campaign'}).click();
  await page.getByText(/send_date: 2026-12-20 is outside the plan/).waitFor();
  // The browser logs the refused request (a 400) itself; nothing else may be logged.
  assert.deepEqual(page.errors.splice(errorsBefore),
    ['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  assert.equal(JSON.parse(audience('campaign', 'list', '--json', '--plan', plan)).campaigns.length, 1);
  await page.getByLabel('Send date').fill('2026-12-10');
  await page.getByRole('button', {name: 'Save campaign'}).click();
  await page.getByRole('heading', {name: 'Campaign: Browser pick', level: 1}).waitFor();
  const listed = JSON.parse(audience('campaign', 'list', '--json', '--plan', plan)).campaigns;
  const saved = listed.find((c) => c.name === 'Browser pick');
  assert.equal(saved.offer, expression);
  assert.deepEqual(saved.volume, {fixed: size});
  assert.equal(saved.channel, 'push');
  assert.equal(saved.holdout_share, 0.2);
  assert.equal(await page.locator('#detail-export-file-name').textContent(), 'Browser pick - week 50');
  assert.equal(await page.locator('#detail-cohort-id').textContent(), saved.cohort_id);
  await shot(page, 'audience-campaign-details-1280');

  // Run plan: a job with progress, then the calendar shows the planned numbers.
  await page.getByRole('link', {name: 'Campaign Plan'}).click();
  await page.getByRole('heading', {name: 'Campaign Plan', level: 1}).waitFor();
  await page.getByText('Not planned yet').waitFor();
  await page.getByRole('button', {name: 'Run plan'}).click();
  await page.locator('#plan-pressure').getByText('OK: no violations').waitFor({timeout: 120000});
  const chip = page.locator('.chip', {hasText: 'Browser pick'});
  await chip.getByText(/selected/).waitFor();
  await chip.getByText(/revenue/).waitFor();
  const summary = JSON.parse(audience('campaign', 'list', '--json', '--plan', plan));
  assert.equal(summary.campaigns.length, 2);
  await shot(page, 'audience-plan-month-1280');
  await page.getByRole('button', {name: 'Week', exact: true}).click();
  await page.getByRole('heading', {name: /^Week of /}).waitFor();
  await page.locator('.calendar.week .chip', {hasText: 'Everyone email'}).waitFor();
  await shot(page, 'audience-plan-week-1280');
  await checkControls(page, 'plan');

  await page.getByRole('link', {name: 'Settings'}).click();
  await page.getByRole('heading', {name: 'Settings', level: 1}).waitFor();
  await shot(page, 'audience-settings-1280');
  assert.deepEqual(page.errors, [], 'no console errors');

  await page.getByRole('button', {name: 'Sign out'}).click();
  await page.waitForURL(base + '/signin');
  await page.context().close();
});

test('every page at 390x844, keyboard only', {timeout: 90000}, async () => {
  const page = await newPage({width: 390, height: 844});
  await consoles.signInWithKeyboard(page, base, email, password);
  await page.getByRole('heading', {name: 'Campaign Plan', level: 1}).waitFor();
  // The menu is followed with the keyboard: Tab to "New campaign", Enter.
  const menuLink = page.locator('#menu a', {hasText: 'New campaign'});
  for (let i = 0; i < 20 && !(await menuLink.evaluate((e) => e === document.activeElement)); ++i) {
    await page.keyboard.press('Tab');
  }
  await page.keyboard.press('Enter');
  await page.getByRole('heading', {name: 'New campaign', level: 1}).waitFor();
  for (const [hash, heading] of [['#/plan', 'Campaign Plan'], ['#/editor/new', 'New campaign'],
    ['#/editor/Everyone%20email', 'Campaign: Everyone email'], ['#/settings', 'Settings']]) {
    await page.goto(base + '/' + hash);
    await page.getByRole('heading', {name: heading, level: 1}).waitFor();
    if (hash.startsWith('#/editor')) await page.waitForFunction(() => !document.getElementById('audience-size').disabled);
    await checkControls(page, hash);
    await shot(page, 'audience-' + hash.slice(2).replace(/\/.*/, '') + (hash.includes('%20') ? '-details' : '') +
      '-390');
  }
  assert.deepEqual(page.errors, [], 'no console errors');
  await page.context().close();
});

test('a wrong password is refused and named', {timeout: 60000}, async () => {
  const page = await newPage({width: 1280, height: 800});
  await page.goto(base + '/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('wrong');
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.getByText('wrong email or password').waitFor();
  await page.context().close();
});
