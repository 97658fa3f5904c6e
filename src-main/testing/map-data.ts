/** Shared fixtures for the map tests: the c3 matrix and the peers' reference quality on it. */
import { readFileSync } from 'node:fs';
import { readNpyLabels, readNpyMatrix } from '../core/npy-file.ts';
import { SHARED } from './fixtures.ts';

export const MATRICES = `${SHARED}/data/matrices/`;
export const PEER_RUNS = `${SHARED}/reference/peers/peers-runs.jsonl`;

export function loadC3(): { X: Float32Array; y: Int32Array; n: number; d: number } {
  const M = readNpyMatrix(`${MATRICES}c3_5000x128_X.npy`);
  return { X: M.data, y: readNpyLabels(`${MATRICES}c3_5000x128_y.npy`), n: M.rows, d: M.cols };
}

/** Best (max) peer trustworthiness@10 and 10-NN label agreement recorded for a tag and method. */
export function peerQuality(tag: string, method: string): { trust: number; agree: number } {
  let trust = -1, agree = -1;
  for (const line of readFileSync(PEER_RUNS, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = JSON.parse(line);
    if (r.tag !== tag || r.method !== method || !r.quality) continue;
    trust = Math.max(trust, r.quality.trustworthiness10_sample);
    agree = Math.max(agree, r.quality.knn10_label_agreement);
  }
  if (trust < 0) throw new Error(`no peer run for ${tag} ${method}`);
  return { trust, agree };
}
