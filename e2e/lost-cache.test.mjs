// A library whose cache folder is gone (deleted to free space, or the library file moved without it), in Chromium via
// serve mode on real photos: the server is stopped, the cache deleted, the server started again; the Library grid's
// photo thumbnails and People's face avatars all show again (each made from its photo when asked), with no failed
// request; a photo deleted meanwhile is the one thumbnail that cannot come back, and the app says nothing worse.
// Screenshots in e2e/artifacts/lost-cache-*.png.
import assert from 'node:assert/strict';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ARTIFACTS, SHARED, jobWaiter, launch, pageApi, startServe, viewOpener, watchPage } from './harness.mjs';

let server, browser, page, problems;
const { call } = pageApi(() => page);
const waitJob = jobWaiter(call);
const go = viewOpener(() => page);
const LONDON = join(SHARED, 'data/faces-london');

/** every thumbnail image on the page: its source and whether it decoded */
const images = (sel) => page.locator(sel).evaluateAll((els) => els.map((e) => ({ src: e.getAttribute('src'), ok: e.complete && e.naturalWidth > 0 })));
const allShown = (sel, n) => page.waitForFunction(([s, k]) => {
  const els = [...document.querySelectorAll(s)];
  return els.length >= k && els.every((e) => e.complete && e.naturalWidth > 0);
}, [sel, n], { timeout: 30_000 });

before(async () => {
  server = await startServe();
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1440, height: 920 } });
  problems = watchPage(page);
  const photos = join(server.dir, 'faces');
  for (const p of readdirSync(LONDON).sort().slice(0, 6)) cpSync(join(LONDON, p), join(photos, p), { recursive: true });
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  const [root] = await call('addRoots', { paths: [photos] });
  await waitJob(await call('scan', { rootIds: [root.id] }));
  await waitJob(await call('embed', { model: 'face' }));
  await waitJob(await call('cluster', { model: 'face', params: { preset: 'people' } }));
}, { timeout: 600_000 });
after(async () => { await browser?.close(); await server?.stop(); });

test('thumbnails and face avatars come back after the cache folder is deleted', async () => {
  await page.reload();
  await page.getByTestId('library-view').waitFor();
  await allShown('[data-testid=thumb]', 12);
  await go('people');
  await allShown('[data-testid=person-avatar]', 6);
  const avatarsBefore = await images('[data-testid=person-avatar]');

  // a photo none of the avatars is from: deleted too, its thumbnail is the one that cannot come back
  const avatarHashes = new Set(avatarsBefore.map((a) => a.src.match(/thumb\/([0-9a-f]+)-f\d+\.jpg$/)?.[1]));
  const victim = (await call('listPhotos', { limit: 100 })).items.find((p) => !avatarHashes.has(p.hash));
  assert.ok(victim);

  // stopped, the cache deleted, started again on the same library
  await page.goto('about:blank');
  await server.kill();
  const cache = readdirSync(server.dir).find((f) => f.endsWith('.cache'));
  assert.ok(cache, `a cache folder next to the library: ${readdirSync(server.dir).join(', ')}`);
  rmSync(join(server.dir, cache), { recursive: true, force: true });
  rmSync(join(server.dir, 'faces', victim.relPath));
  const dir = server.dir;
  problems.length = 0;
  server = await startServe([], { dir });
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=thumb]').length >= 12, null, { timeout: 30_000 });
  await page.waitForLoadState('networkidle');
  const grid = await images('[data-testid=thumb]');
  const broken = grid.filter((g) => !g.ok);
  assert.equal(broken.length, 1, JSON.stringify(broken));
  // that tile says why it is empty instead of showing a broken image
  const marked = await page.locator('[data-testid=thumb][data-broken]').evaluateAll((els) => els.map((e) => e.getAttribute('src')));
  assert.deepEqual(marked, [`thumb/${victim.hash}.jpg`]);
  const why = await page.locator('[data-testid=photo-tile]:has(img[data-broken])').evaluate((e) => getComputedStyle(e, '::before').content);
  assert.match(why, /no thumbnail: the photo is gone or changed/);
  await page.locator('[data-testid=thumb]').first().scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(ARTIFACTS, 'lost-cache-1-library.png') });
  await go('people');
  await allShown('[data-testid=person-avatar]', 6);
  assert.deepEqual((await images('[data-testid=person-avatar]')).map((a) => a.src), avatarsBefore.map((a) => a.src));
  await page.screenshot({ path: join(ARTIFACTS, 'lost-cache-2-people.png') });
  // the one failed request is that photo's thumbnail, answered 404 (its file is gone), nothing else
  assert.equal(problems.length, 1, problems.join('\n'));
  assert.match(problems[0], new RegExp(`^HTTP 404: /s/[^/]+/thumb/${victim.hash}\\.jpg$`));
  // check: of the photos' thumbnails only the gone photo's is still missing (the grid asked for every other one)
  const check = await call('check', {});
  const photoThumbs = check.problems.find((p) => p.kind === 'missing-thumbnail' && /^photo thumbnails/.test(p.message));
  assert.equal(photoThumbs?.count, 1, JSON.stringify(check.problems));
});
