/**
 * nsfwjs ships its TF.js models as browserify bundles (`model.min.js`, `group1-shardNofM.min.js`)
 * whose module.exports are the model.json object and base64 weight shards. We evaluate them in an
 * empty vm context (no require, no process) to get the data out.
 */
import vm from 'node:vm';
import type { TfModelJson } from './tfjs-convert.ts';

export function evalUmdExport(source: string, label: string): unknown {
  const module = { exports: {} as unknown };
  const ctx = vm.createContext({ module, exports: module.exports });
  try {
    vm.runInContext(source, ctx, { timeout: 30_000, filename: label });
  } catch (e) {
    throw new Error(`${label}: cannot evaluate bundle: ${(e as Error).message}`);
  }
  return module.exports;
}

/** files: bundle file name (e.g. 'model.min.js') → source text. */
export function loadBundledGraphModel(files: Map<string, string>): { model: TfModelJson; weightData: Buffer } {
  const modelSrc = files.get('model.min.js');
  if (!modelSrc) throw new Error('model.min.js missing from nsfwjs package');
  const model = evalUmdExport(modelSrc, 'model.min.js') as TfModelJson;
  if (!model || typeof model !== 'object' || !model.modelTopology || !Array.isArray(model.weightsManifest)) {
    throw new Error('model.min.js: not a TF.js graph model');
  }
  const parts: Buffer[] = [];
  for (const group of model.weightsManifest) {
    for (const p of group.paths) {
      const file = `${p.replace(/^.*\//, '')}.min.js`;
      const src = files.get(file);
      if (!src) throw new Error(`${file} missing from nsfwjs package`);
      const b64 = evalUmdExport(src, file);
      if (typeof b64 !== 'string') throw new Error(`${file}: expected a base64 string export`);
      parts.push(Buffer.from(b64, 'base64'));
    }
  }
  return { model, weightData: Buffer.concat(parts) };
}
