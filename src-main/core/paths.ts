/** Where the application's own files are: the repository (or app) root, its resources and built renderer. */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { config } from './config.ts';

function findRoot(): string {
  // from src-main/core (sources) or out/main (built): walk up to the folder holding package.json
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'package.json'))) return d;
    d = dirname(d);
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '../..');
}

export const REPO_ROOT = config.appRoot() ?? findRoot();
export const RESOURCES_DIR = join(REPO_ROOT, 'resources');
/** CONSTELLATE_MODELS (or CONSTELLATE_MODELS_DIR), else resources/models: the same folder for every part of the app */
export const MODELS_DIR = config.modelsDir() ?? join(RESOURCES_DIR, 'models');
