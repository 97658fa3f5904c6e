/** Shared helpers for the model tests (not used at runtime). */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultModelsDir } from '../core/models/files.ts';
import { prepareModels } from '../../tools/models/prepare.ts';
import { SHARED } from './fixtures.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = SHARED;
export const referenceDir = path.join(sharedDir, 'reference/mobilenet_v2_mid');

let ready: Promise<string> | undefined;
/** Prepare resources/models once per test process (idempotent, fast when already there). */
export function ensureModels(): Promise<string> {
  ready ??= prepareModels({ quiet: true }).then(() => defaultModelsDir());
  return ready;
}
