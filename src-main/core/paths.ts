/** Where the application's own files are: the repository (or app) root, its resources and built renderer. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  // from src-main/core (sources) or out/main (built): walk up to the folder holding package.json
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'package.json'))) return d;
    d = dirname(d);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../..');
}

export const REPO_ROOT = process.env.CONSTELLATE_APP_ROOT ? resolve(process.env.CONSTELLATE_APP_ROOT) : findRoot();
export const RESOURCES_DIR = join(REPO_ROOT, 'resources');
export const MODELS_DIR = process.env.CONSTELLATE_MODELS ? resolve(process.env.CONSTELLATE_MODELS) : join(RESOURCES_DIR, 'models');
