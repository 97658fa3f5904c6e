/** Where the prepared models live and how to verify them. */
import { config } from '../config.ts';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import { MODELS_DIR } from '../paths.ts';

export const RESTORE_HINT = "restore it with 'npm run cli -- prepare-models' (or 'npx constellate prepare-models')";

export const MODEL_FILES = {
  photo: ['photo.onnx'],
  face: ['fr_detect.onnx', 'fr_landmark.onnx', 'fr_feature.onnx'],
} as const;
export type BuiltinModelName = keyof typeof MODEL_FILES;

export const CHECKSUMS_FILE = 'checksums.json';

/**
 * Where the built-in models come from, as the model build (tools/models/prepare.ts, run by `prepare-models`) records
 * it per file: a change forces re-preparation, and the photo model's version is its source.
 */
export const NSFWJS_SPEC = 'nsfwjs@4.3.0';
export const FACE_SPEC = 'faceplugin-face-recognition-js@0.0.1';
/** The TF.js -> ONNX converter's version (tools/models/tfjs-convert.ts): bump when the emitted graph changes. */
export const CONVERTER_VERSION = 'tfjs2onnx-1';
/** Provenance string stored per file; a change forces re-preparation. */
export const PHOTO_SOURCE = `${NSFWJS_SPEC}/dist/models/mobilenet_v2_mid+${CONVERTER_VERSION}`;

/** What `prepare-models` did per model (its --json output). */
export interface ModelStatus {
  name: BuiltinModelName;
  files: string[];
  /** 'ok': already present and valid; 'prepared': (re)built this run */
  status: 'ok' | 'prepared';
}

export interface ChecksumsFile {
  version: number;
  /** per-file version/provenance, e.g. photo conversion version */
  sources: Record<string, string>;
  files: Record<string, { sha256: string; size: number }>;
}

/** resources/models of the app root, found the same way from sources and from the built bundle (or the one setting in config.ts). */
export function defaultModelsDir(): string {
  return config.modelsDir() ?? MODELS_DIR;
}

/** Feeds a file into a hash in 1 MiB reads (models are tens of MB; no whole-file buffer). */
export function hashFileInto(file: string, hash: crypto.Hash): crypto.Hash {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      hash.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash;
}

export function sha256File(file: string): string {
  return hashFileInto(file, crypto.createHash('sha256')).digest('hex');
}

export function readChecksums(modelsDir: string): ChecksumsFile | undefined {
  const p = path.join(modelsDir, CHECKSUMS_FILE);
  try {
    const j = JSON.parse(fs.readFileSync(p, 'utf8')) as ChecksumsFile;
    if (!j || typeof j !== 'object' || typeof j.files !== 'object') return undefined;
    return j;
  } catch {
    return undefined;
  }
}

/**
 * Files whose checksum matched, by their identity on disk (path, size, modification time) and the checksum they
 * matched: each is hashed once per thread, so a job that checks its model before it starts (on the main thread) does
 * not read the model again each time.
 */
const verified = new Set<string>();

/**
 * Check that a built-in model's files exist and match checksums.json (when present).
 * Throws AppError MODEL_MISSING / BAD_MODEL naming the file and how to restore it.
 * Returns the absolute file paths.
 */
export function verifyModel(name: BuiltinModelName, modelsDir = defaultModelsDir()): string[] {
  const files = MODEL_FILES[name];
  if (!files) throw new AppError('BAD_ARGUMENT', `model: unknown built-in model '${String(name)}'`);
  const sums = readChecksums(modelsDir);
  const out: string[] = [];
  for (const f of files) {
    const p = path.join(modelsDir, f);
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch {
      throw new AppError('MODEL_MISSING', `${p}: model file missing; ${RESTORE_HINT}`);
    }
    const want = sums?.files[f];
    if (want) {
      const key = `${p}:${st.size}:${st.mtimeMs}:${want.sha256}`;
      if (!verified.has(key)) {
        if (st.size !== want.size || sha256File(p) !== want.sha256) {
          throw new AppError('BAD_MODEL', `${p}: model file damaged (checksum mismatch with ${CHECKSUMS_FILE}); ${RESTORE_HINT}`);
        }
        verified.add(key);
      }
    }
    out.push(p);
  }
  return out;
}
