// Text search in Chromium via serve mode. Before any CLIP model: the search box takes words, and the refusal says
// which models it needs, with the catalog's two CLIP parts and a Download button each; with no way to the model host
// (the catalog pointed at a closed port, as offline), the failed download says so in words. Then a tiny CLIP built by
// the test (testing/tiny-clip.ts: mean-colour image encoder, token-colour text encoder, CLIP-style BPE tokenizer) is
// embedded into the library, and "something red" ranks the red photo first, as the selection, with its score.
// Screenshots in e2e/artifacts/ts-*.png.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tsImport } from 'tsx/esm/api';
import { ARTIFACTS, ROOT, launch, startServe, watchPage, pageApi, until, jobWaiter } from './harness.mjs';

let server, browser, page, problems, clip;
const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `ts-${name}.png`) });
const { call } = pageApi(() => page);
const waitJob = jobWaiter(call);

/** A port nothing listens on: the catalog "host" that cannot be reached. */
async function closedPort() {
  const s = createServer();
  await new Promise((ok) => { s.listen(0, '127.0.0.1', () => ok(undefined)); });
  const port = /** @type {import('node:net').AddressInfo} */ (s.address()).port;
  await new Promise((ok) => s.close(ok));
  return port;
}

before(async () => {
  process.env.CONSTELLATE_CATALOG_MIRROR = `http://127.0.0.1:${await closedPort()}/`;
  server = await startServe();
  const tiny = await tsImport(join(ROOT, 'src-main/testing/tiny-clip.ts'), import.meta.url);
  clip = tiny.writeTinyClip(join(server.dir, 'models'));
  await tiny.writeColourPhotos(join(server.dir, 'photos'));
  browser = await launch();
  page = await browser.newPage({ viewport: { width: 1440, height: 920 } });
  problems = watchPage(page);
  await page.goto(server.url);
  await page.getByTestId('library-view').waitFor();
  const roots = await call('addRoots', { paths: [join(server.dir, 'photos')] });
  await waitJob(await call('scan', { rootIds: roots.map((r) => r.id) }));
}, { timeout: 600_000 });
after(async () => { await browser?.close(); await server?.stop(); });

async function searchWords(words) {
  await page.getByTestId('search-text').fill(words);
  await page.getByTestId('search-text').press('Enter');
}

test('before a CLIP model: the refusal says which models text search needs, and a download that cannot reach the host says so', async () => {
  await page.goto(`${server.url}#view=map`);
  await page.getByTestId('map-view').waitFor();
  assert.equal(await page.getByTestId('search-text').isDisabled(), false);
  // the search fields are the app's dark fields: typed text was light grey on the browser's white before
  for (const id of ['search-text', 'search-group', 'search-folder', 'search-file', 'search-from', 'legend-filter']) {
    const field = page.getByTestId(id);
    if (!(await field.count())) continue;
    const [bg, fg] = await field.evaluate((el) => [getComputedStyle(el).backgroundColor, getComputedStyle(el).color]);
    assert.equal(bg, 'rgb(20, 22, 27)', `${id}: background ${bg}`);
    assert.equal(fg, 'rgb(230, 232, 238)', `${id}: text ${fg}`);
  }
  await page.getByTestId('search-text-why').click();
  assert.match(await page.getByTestId('search-text-note').textContent(), /needs a CLIP model: its image encoder .* and its text encoder with its tokenizer, both from the model catalog/);
  await searchWords('a red photo');
  await page.getByTestId('search-text-needs').waitFor();
  assert.match(await page.getByTestId('search-text-reason').textContent(), /no photo model of this library has a text encoder \(photo models: none yet\)\. Text search needs a CLIP model: .*clip-vit-b32-vision.*clip-vit-b32-text/);
  await page.getByTestId('needs-clip-vit-b32-vision').waitFor();
  assert.match(await page.getByTestId('needs-clip-vit-b32-text').textContent(), /CLIP ViT-B\/32 text encoder and tokenizer/);
  await shot('01-needs');
  await page.getByTestId('needs-download-clip-vit-b32-text').click();
  const failed = page.getByTestId('needs-failed-clip-vit-b32-text');
  await failed.waitFor({ timeout: 60_000 });
  assert.match(await failed.textContent(), /^Could not download: http:\/\/127\.0\.0\.1:\d+\/Xenova\/clip-vit-base-patch32\/resolve\/main\/onnx\/text_model\.onnx: download failed: cannot connect.*cannot reach the model host now; connect to the internet and try again/);
  await shot('02-download-failed');
  // the refusal's 404 and nothing else
  assert.deepEqual(problems.filter((p) => !/^HTTP 404: .*\/api\/searchItems$/.test(p)), []);
  problems.length = 0;
});

test('with a CLIP model (a tiny one) embedded: words rank the photos, the named colour first, as the selection with its score', async () => {
  await waitJob(await call('embed', { model: clip.manifest }));
  await page.goto(`${server.url}#view=map`);
  await page.getByTestId('map-view').waitFor();
  await searchWords('Something RED');
  const note = await until(async () => {
    const t = await page.getByTestId('search-note').textContent();
    return /nearest/.test(t ?? '') ? t : null;
  }, 'the search note');
  assert.match(note, /^5 photos nearest to "Something RED" \(model tiny-clip\), best first: red\.jpg (1\.00|0\.99)/);
  assert.equal(await page.getByTestId('search-text-needs').count(), 0);
  await until(async () => (await page.getByTestId('selection-count').textContent()) === '5', 'the selection of 5');
  await shot('03-results');
  // the grid's order is the ranking: red, yellow (1/sqrt 2), white (1/sqrt 3) first
  const grid = page.getByTestId('selection-grid').getByTestId('item');
  await until(async () => (await grid.count()) === 5, 'five tiles');
  const names = await grid.evaluateAll((tiles) => tiles.map((t) => (t.getAttribute('title') ?? '').split('/').pop()));
  assert.deepEqual(names.slice(0, 3), ['red.jpg', 'yellow.jpg', 'white.jpg']);
  // each tile shows its similarity to the words: red 1, yellow 1/sqrt 2, white 1/sqrt 3 (JPEG noise aside)
  const sims = (await grid.locator('[data-testid=tile-sim]').allTextContents()).map((t) => Number(t.trim()));
  assert.ok(sims[0] >= 0.99 && Math.abs(sims[1] - 0.71) <= 0.02 && Math.abs(sims[2] - 0.58) <= 0.02, `tile scores ${sims}`);
  assert.deepEqual(problems, []);
});
