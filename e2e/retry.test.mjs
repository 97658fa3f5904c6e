// Failed files are shown with a retry (issue 15): unreadable images count as errors in the Library view; "Retry failed"
// rescans the folders whose failures may pass (I/O) and says so, or says that none of them is an I/O failure.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, SHARED, launch, startServe, watchPage } from './harness.mjs';

let server, browser, dir;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'constellate-retry-'));
  const photos = join(dir, 'photos');
  mkdirSync(photos);
  copyFileSync(join(SHARED, 'data/photos-flowers/daisy/5794839_200acd910c_n.jpg'), join(photos, 'ok.jpg'));
  writeFileSync(join(photos, 'text.jpg'), 'not an image\n');
  writeFileSync(join(photos, 'truncated.jpg'), readFileSync(join(photos, 'ok.jpg')).subarray(0, 3000));
  server = await startServe();
  browser = await launch();
});
after(async () => { await browser?.close(); await server?.stop(); rmSync(dir, { recursive: true, force: true }); });

test('unreadable files are counted, and Retry failed says what it retried', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems = watchPage(page);
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  await page.getByTestId('folder-input').fill(join(dir, 'photos'));
  await page.getByTestId('add-folder').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=error-count]')?.textContent === '2', null, { timeout: 60_000 });
  assert.equal(await page.getByTestId('photo-count').textContent(), '1');
  await page.getByTestId('retry-failed').click();
  const note = page.getByTestId('retry-note');
  await note.waitFor();
  // both are content failures (not an image, a truncated JPEG): nothing to retry, and the note says why
  assert.match(await note.textContent(), /None of the 2 failures is an I\/O failure/);
  await page.screenshot({ path: join(ARTIFACTS, 'library-retry.png') });
  assert.deepEqual(problems, []);
  await page.close();
});
