// The built main-process bundle (out/main, what the desktop app runs): its shared chunk must find the worker bundle
// and run tasks there, including a clustering task whose UMAP reduction starts its own SGD helper workers.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const OUT = fileURLToPath(new URL('../out/main/', import.meta.url));

/** A function exported (under a minified name) by the built shared chunks, found by its own name. */
async function built(name) {
  for (const f of readdirSync(join(OUT, 'chunks')).map((x) => join(OUT, 'chunks', x))) {
    const m = await import(pathToFileURL(f).href);
    const fn = Object.values(m).find((v) => typeof v === 'function' && v.name === name);
    if (fn) return fn;
  }
  throw new Error(`no ${name} export in the built chunks under ${OUT} (run npm run build first)`);
}
const builtRunTask = () => built('runTask');

/** n points around k centres in d dimensions, seeded (an LCG), in shared memory as the app passes them. */
function blobs(n, d, k, seed) {
  let s = seed >>> 0;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const centres = Float32Array.from({ length: k * d }, () => rnd() * 2 - 1);
  const X = new Float32Array(new SharedArrayBuffer(n * d * 4));
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    y[i] = i % k;
    for (let j = 0; j < d; j++) X[i * d + j] = centres[y[i] * d + j] + (rnd() - 0.5) * 0.3;
  }
  return { X, y };
}

test('the built bundle runs worker tasks from its shared chunk', async () => {
  const runTask = await builtRunTask();
  const n = 400, d = 8;
  const { X } = blobs(n, d, 4, 1);
  const r = await runTask('knn', { X, n, d, k: 3, metric: 'cosine' });
  assert.equal(r.indices.length, n * 3);
});

test('the built bundle finds the prepared models (resources/models of the app root)', async () => {
  const verifyModel = await built('verifyModel');
  const models = fileURLToPath(new URL('../resources/models/', import.meta.url));
  // throws MODEL_MISSING / BAD_MODEL naming the file when the bundle looks in the wrong place
  for (const [name, count] of /** @type {Array<[string, number]>} */ ([['photo', 1], ['face', 3]])) {
    const files = verifyModel(name);
    assert.equal(files.length, count, name);
    for (const f of files) assert.ok(f.startsWith(models), `${f} is not under ${models}`);
  }
});

test('a built clustering task reduces with UMAP on several threads (nested SGD helpers) and labels every point', async () => {
  const runTask = await builtRunTask();
  const n = 3000, d = 32, k = 20;
  const { X, y } = blobs(n, d, k, 7);
  process.env.CONSTELLATE_WORKERS = '2';
  const out = await runTask('cluster', { X, n, d, params: { algo: 'ward', k, seed: 0 }, labelsTrue: y });
  assert.equal(out.labels.length, n);
  assert.equal(out.metrics.clusters, k);
  assert.ok(out.metrics.ami > 0.9, `AMI ${out.metrics.ami}`);
  const sgd = out.record.reduce.sgd;
  assert.equal(sgd.threads, 2);
  assert.ok(sgd.helperChunks > 0 && sgd.helperChunks < sgd.chunks, JSON.stringify(sgd));
});

test('a built clustering task trains an autoencoder (ae:8) and DEC in its worker, reporting the loss per epoch', async () => {
  const runTask = await builtRunTask();
  const n = 800, d = 16, k = 4;
  const { X, y } = blobs(n, d, k, 3);
  const losses = [];
  const out = await runTask('cluster', { X, n, d, params: { algo: 'kmeans', k, seed: 0, reduce: 'ae:8', epochs: 3 }, labelsTrue: y },
    { onProgress: (stage, done, total, extra) => { if (extra?.loss) losses.push(extra.loss.length); } });
  assert.equal(out.labels.length, n);
  assert.equal(out.loss.length, 3);
  assert.deepEqual(losses, [1, 2, 3]);
  assert.equal(out.encoder.layers[0].out, 8);
  const dec = await runTask('cluster', { X, n, d, params: { algo: 'dec', k, seed: 0, epochs: 2, maxIter: 200 }, labelsTrue: y });
  assert.equal(dec.labels.length, n);
  assert.ok(dec.record.dec.iterations > 0);
});
