// The new-user walkthrough (not a test: a script to look at). Serve mode on a fresh library, real photos from
// ../shared/data (three flower folders, six London faces), Chromium driven by clicks where a person would click:
// add folder, scan, embed photos and faces, cluster (Tune), Clusters, Map, People, Review, Duplicates, Export, undo,
// and the failures: wrong parameters, a reload during a job, the server stopped. One screenshot per step in
// e2e/artifacts/walk-NN-*.png, and each step's outcome (what the screen said) on stdout; look at every screenshot.
//   node e2e/walkthrough.mjs
import { cpSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, SHARED, launch, startServe, watchPage, pageApi } from './harness.mjs';

const server = await startServe();
const browser = await launch();
const page = await browser.newPage({ viewport: { width: 1440, height: 920 } });
const problems = watchPage(page);
const { call } = pageApi(() => page);
let n = 0;
const log = (step, what) => process.stdout.write(`${String(n).padStart(2, '0')} ${step}: ${what}\n`);
async function shot(step) {
  n++;
  await page.screenshot({ path: join(ARTIFACTS, `walk-${String(n).padStart(2, '0')}-${step}.png`) });
}
async function step(name, fn) {
  try { log(name, String(await fn() ?? 'ok')); } catch (e) { log(name, `FAILED ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}`); }
  await shot(name).catch(() => {});
  if (problems.length) { log(name, `page problems: ${problems.join(' | ')}`); problems.length = 0; }
}
const go = async (view) => { await page.getByTestId(`nav-${view}`).click(); await page.getByTestId(`${view}-view`).waitFor({ timeout: 15_000 }); };
const waitJobs = async (ms = 300_000) => {
  const t0 = Date.now();
  for (;;) {
    const jobs = await call('listJobs');
    if (!jobs.some((j) => j.state === 'running' || j.state === 'queued')) return jobs;
    if (Date.now() - t0 > ms) throw new Error('jobs still running');
    await new Promise((r) => setTimeout(r, 500));
  }
};

// the folders a new user has: flowers (three kinds, 15 each) and faces (six people)
const photos = join(server.dir, 'Pictures');
for (const kind of readdirSync(join(SHARED, 'data/photos-flowers')).filter((f) => !f.endsWith('.txt')).slice(0, 3)) {
  mkdirSync(join(photos, 'flowers', kind), { recursive: true });
  for (const f of readdirSync(join(SHARED, 'data/photos-flowers', kind)).slice(0, 15)) cpSync(join(SHARED, 'data/photos-flowers', kind, f), join(photos, 'flowers', kind, f));
}
for (const p of readdirSync(join(SHARED, 'data/faces-london')).sort().slice(0, 6)) cpSync(join(SHARED, 'data/faces-london', p), join(photos, 'people', p), { recursive: true });

await page.goto(server.url);
await step('first-screen', async () => { await page.getByTestId('library-view').waitFor(); return await page.locator('main').innerText().then((t) => t.slice(0, 200).replace(/\s+/g, ' ')); });
await step('add-folder', async () => {
  await page.getByTestId('folder-input').fill(photos);
  await page.getByTestId('add-folder').click();
  await waitJobs();
  return await page.getByTestId('photo-count').textContent();
});
await step('embed-photos', async () => { await page.getByTestId('embed-photo').click(); await waitJobs(); return await page.getByTestId('models').innerText(); });
await step('embed-faces', async () => { await page.getByTestId('embed-face').click(); await waitJobs(); return await page.getByTestId('models').innerText(); });
await step('tune-wrong-k', async () => {
  await go('tune');
  await page.getByTestId('tune-model').selectOption('photo');
  await page.getByTestId('tune-preset').selectOption('custom');
  await page.getByTestId('tune-algo').selectOption('kmeans');
  await page.getByTestId('tune-k').fill('0');
  await page.getByTestId('run-cluster').click();
  await page.waitForTimeout(800);
  return (await page.getByTestId('tune-error').textContent().catch(() => '(no tune-error)'));
});
await step('tune-cluster-photos', async () => {
  await page.getByTestId('tune-k').fill('3');
  await page.getByTestId('run-cluster').click();
  await waitJobs();
  await page.waitForTimeout(500);
  return (await page.getByTestId('runs-table').innerText()).slice(0, 300).replace(/\s+/g, ' ');
});
await step('clusters', async () => { await go('clusters'); return (await page.getByTestId('cluster-table').innerText()).slice(0, 300).replace(/\s+/g, ' '); });
await step('map-compute', async () => {
  await go('map');
  await page.getByRole('button', { name: 'Compute map' }).click();
  await waitJobs();
  await page.waitForTimeout(1000);
  return `points ${await page.getByTestId('map-view').getAttribute('data-points')}`;
});
await step('map-text-search', async () => {
  await page.getByTestId('search-text').fill('a yellow flower');
  await page.getByTestId('search-text').press('Enter');
  await page.waitForTimeout(1000);
  return (await page.getByTestId('search-text-reason').textContent().catch(() => '')) || (await page.getByTestId('search-note').textContent());
});
await step('people-cluster', async () => {
  await go('tune');
  await page.getByTestId('tune-model').selectOption('face');
  await page.waitForTimeout(300);
  await page.getByTestId('tune-preset').selectOption('people');
  await page.getByTestId('run-cluster').click();
  await waitJobs();
  await go('people');
  await page.waitForTimeout(800);
  return (await page.getByTestId('people-count').textContent().catch(() => '(no count)'));
});
await step('people-name', async () => {
  const name = page.getByTestId('person-name').first();
  await name.click();
  await name.fill('Ada');
  await name.press('Enter');
  await page.waitForTimeout(800);
  return await page.getByTestId('person').first().innerText().then((t) => t.replace(/\s+/g, ' '));
});
await step('review', async () => { await go('review'); await page.waitForTimeout(800); return (await page.getByTestId('review-view').innerText()).slice(0, 300).replace(/\s+/g, ' '); });
await step('duplicates', async () => {
  await go('duplicates');
  await page.getByTestId('find-duplicates').click();
  await waitJobs();
  await page.waitForTimeout(800);
  return (await page.getByTestId('duplicates-view').innerText()).slice(0, 300).replace(/\s+/g, ' ');
});
await step('export-wrong-folder', async () => {
  await go('export');
  await page.getByTestId('export-to').fill('relative/folder');
  await page.getByRole('button', { name: /^Export/ }).first().click();
  await page.waitForTimeout(800);
  return (await page.getByTestId('export-view').innerText()).slice(0, 400).replace(/\s+/g, ' ');
});
await step('export', async () => {
  await page.getByTestId('export-to').fill(join(server.dir, 'out'));
  await page.getByRole('button', { name: /^Export/ }).first().click();
  await page.waitForTimeout(500);
  if (await page.getByTestId('confirm-create').count()) await page.getByTestId('confirm-create').click();
  await waitJobs();
  await page.waitForTimeout(500);
  return (await page.getByTestId('export-report').innerText().catch(() => '(no report)')).slice(0, 300).replace(/\s+/g, ' ');
});
await step('undo', async () => {
  await page.getByTestId('undo').click();
  await page.waitForTimeout(800);
  return (await page.getByTestId('toasts').innerText().catch(() => '')).replace(/\s+/g, ' ');
});
await step('reload-during-map-job', async () => {
  await go('map');
  await page.locator('select').filter({ hasText: 'UMAP' }).first().selectOption('tsne').catch(() => {});
  await page.getByRole('button', { name: 'Compute map' }).click();
  await page.waitForTimeout(300);
  await page.reload();
  await page.getByTestId('map-view').waitFor();
  await page.waitForTimeout(500);
  const during = (await page.getByTestId('jobbar').innerText().catch(() => '(no job bar)')).replace(/\s+/g, ' ');
  await waitJobs();
  await page.waitForTimeout(1000);
  return `during: ${during}; after: map ${await page.getByTestId('map-view').getAttribute('data-setting')}`;
});
await step('server-stopped', async () => {
  await server.kill();
  await go('clusters').catch(() => {});
  await page.waitForTimeout(3000);
  return (await page.getByTestId('reconnecting').innerText().catch(() => '(no banner)')).replace(/\s+/g, ' ');
});
await step('server-stopped-library', async () => {
  await page.getByTestId('nav-library').click();
  await page.waitForTimeout(1500);
  const embed = await page.getByTestId('embed-photo').isDisabled().catch(() => null);
  return `embed disabled: ${embed}`;
});
await browser.close();
process.exit(0);
