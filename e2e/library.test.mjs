// Serve mode in Chromium: open the app, add a folder, wait for the scan, see thumbnails, save a screenshot.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, SHARED, launch, startServe, watchPage } from './harness.mjs';

let server, browser;
before(async () => { server = await startServe(); browser = await launch(); });
after(async () => { await browser?.close(); await server?.stop(); });

test('every route answers 401 without the token', async () => {
  const base = `http://127.0.0.1:${server.port}`;
  for (const path of ['/', '/index.html', '/assets/x.js', '/thumb/0123456789abcdef0123456789abcdef.jpg']) {
    const r = await fetch(base + path);
    assert.equal(r.status, 401, path);
  }
  const api = await fetch(`${base}/api/getInfo`, { method: 'POST', body: '{}' });
  assert.equal(api.status, 401);
});

test('add a folder, scan it and see the thumbnail grid', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = watchPage(page);
  await page.goto(server.url);
  // the token moved into a cookie and out of the address bar
  assert.ok(!page.url().includes('token='), page.url());
  await page.getByTestId('library-view').waitFor();
  await page.getByTestId('folder-input').fill(join(SHARED, 'data/photos-flowers'));
  await page.getByTestId('add-folder').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=photo-count]')?.textContent === '200', null, { timeout: 120_000 });
  await page.waitForFunction(() => {
    const imgs = [...document.querySelectorAll('[data-testid=thumb]')];
    return imgs.length >= 12 && imgs.slice(0, 12).every((i) => i.complete && i.naturalWidth > 0);
  }, null, { timeout: 60_000 });
  const shown = await page.locator('[data-testid=thumb]').count();
  assert.ok(shown >= 12 && shown < 200, `virtualized grid shows a window of thumbnails, not all (${shown})`);
  await page.screenshot({ path: join(ARTIFACTS, 'library.png') });
  // scroll to the end: the grid loads the last page
  await page.getByTestId('grid').evaluate((el) => { el.scrollTop = el.scrollHeight; });
  await page.waitForFunction(() => [...document.querySelectorAll('[data-testid=thumb]')].some((i) => i.title.startsWith('tulips/')), null, { timeout: 30_000 });
  assert.deepEqual(problems, []);
  await page.close();
});
