// What the browser tests of the consoles share: a server process on a free port, Debian's
// chromium, pages that record console errors, sign-in, and screenshots that also check the page
// reflows to the window's width.
import {spawn} from 'node:child_process';
import {join} from 'node:path';
import assert from 'node:assert/strict';
import {chromium} from 'playwright-core';

// Starts `bin ARGS` (a `serve` with `--listen 127.0.0.1:0`); resolves {child, base} once it
// prints "listening on http://HOST:PORT".
export function serve(bin, args) {
  const child = spawn(bin, args, {stdio: ['ignore', 'pipe', 'inherit']});
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/[^\s]+)/);
      if (m) resolve({child, base: m[1]});
    });
    child.on('exit', (code) => reject(new Error(bin + ' ' + args[0] + ' exited with ' + code)));
  });
}

export function launchBrowser() {
  return chromium.launch({executablePath: process.env.CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage']});
}

// A page that records console errors and uncaught exceptions: the consoles must have none.
export async function newPage(browser, viewport) {
  const context = await browser.newContext({viewport});
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

export async function signIn(page, base, email, password) {
  await page.goto(base + '/');
  await page.waitForURL(base + '/signin');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', {name: 'Sign in'}).click();
  await page.waitForURL(base + '/');
}

// Signs in with the keyboard alone: the sign-in page focuses its Email field by itself (waited
// for, not given: the page's autofocus can come after the load event on a busy machine), Tab
// goes to Password, Enter submits.
export async function signInWithKeyboard(page, base, email, password) {
  await page.goto(base + '/signin');
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'email');
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.waitForURL(base + '/');
}

export async function shot(page, dir, name) {
  await page.screenshot({path: join(dir, name + '.png'), fullPage: true});
  // Nothing wider than the window: at 390 px every page must reflow, not scroll sideways.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, name + ' is ' + overflow + ' px wider than the window');
}
