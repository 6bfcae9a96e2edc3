// What the browser tests share: a server process whose first line says where it listens,
// pages that record console errors, screenshots with the no-sideways-scroll check, and the
// browser itself (Debian's chromium, headless).
import {spawn} from 'node:child_process';
import {join} from 'node:path';
import assert from 'node:assert/strict';
import {chromium} from 'playwright-core';

// Starts `bin args...` (engage serve, audience serve) and resolves with the process and the base
// URL from its "listening on http://HOST:PORT" line.
export async function startServer(bin, args) {
  const proc = spawn(bin, args, {stdio: ['ignore', 'pipe', 'inherit']});
  const base = await new Promise((resolve, reject) => {
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = out.match(/listening on (http:\/\/[^\s]+)/);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(bin + ' ' + args[0] + ' exited with ' + code)));
  });
  return {proc, base};
}

export function launchBrowser() {
  return chromium.launch({executablePath: process.env.CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage']});
}

// A page that records console errors and uncaught exceptions in page.errors: a console must have none.
export async function newPage(browser, viewport) {
  const context = await browser.newContext({viewport});
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

// A full-page screenshot into `dir`; nothing may be wider than the window (at 390 px every page
// must reflow, not scroll sideways).
export async function shot(page, dir, name) {
  await page.screenshot({path: join(dir, name + '.png'), fullPage: true});
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, name + ' is ' + overflow + ' px wider than the window');
}

// Signs in at `base`/signin with the keyboard only (the Email field has the focus) and waits for
// the console at `base`/.
export async function signInWithKeyboard(page, base, email, password) {
  await page.goto(base + '/signin');
  await page.keyboard.type(email);
  await page.keyboard.press('Tab');
  await page.keyboard.type(password);
  await page.keyboard.press('Enter');
  await page.waitForURL(base + '/');
}
