/**
 * The model build (a tool, not part of the runtime: no production file imports it): run by `constellate
 * prepare-models` (and so by npm's postinstall) through tools/models/prepare-cli.ts, in its own process.
 *
 * Fetches the two npm tarballs with `npm pack` into a cache (never installs them), extracts only
 * the files we need, converts the nsfwjs TF.js graph to ONNX, and writes everything plus
 * checksums.json under the models dir (default resources/models). Idempotent: a second run with
 * valid files does nothing but hash them.
 */
import { config } from '../../src-main/core/config.ts';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { writeFileAtomicSync } from '../../src-main/core/atomic-write.ts';
import path from 'node:path';
import { AppError } from '../../src-main/common/errors.ts';
import {
  CHECKSUMS_FILE, CONVERTER_VERSION, defaultModelsDir, FACE_SPEC, MODEL_FILES, NSFWJS_SPEC, PHOTO_SOURCE, readChecksums, sha256File, type ChecksumsFile,
  type ModelStatus,
} from '../../src-main/core/models/files.ts';
import { extractTgz } from './tar.ts';
import { loadBundledGraphModel } from './tfjs-bundle.ts';
import { convertTfjsGraph } from './tfjs-convert.ts';

export { FACE_SPEC, NSFWJS_SPEC, PHOTO_SOURCE, type ModelStatus };

const P = 'StatefulPartitionedCall/sequential/keras_layer/StatefulPartitionedCall/StatefulPartitionedCall/StatefulPartitionedCall/predict/';
export const PHOTO_OUTPUTS = {
  features: `${P}feature_vector/SpatialSqueeze`,
  probabilities: 'StatefulPartitionedCall/sequential/prediction/Softmax',
};

/** Pinned SHA-256 of the nsfwjs@4.3.0 mobilenet_v2_mid bundle files (they are evaluated in a vm, so pin them). */
export const NSFW_FILE_SHA256: Record<string, string> = {
  'model.min.js': 'a7a9e701491e2449b221dab7c424957f853e700602b5575da33cfd745616f964',
  'group1-shard1of2.min.js': 'f2e79a209e44d668220ec5f1533a98f2be954e3953685bf074d201b82fefc29a',
  'group1-shard2of2.min.js': 'f291df992a0131741372506a6072fb9f1645bff7c973c983fd6276f5f9625d5e',
};

/** Pinned SHA-256 of the face model files as published in faceplugin-face-recognition-js@0.0.1. */
export const FACE_FILE_SHA256: Record<string, { sha256: string; size: number }> = {
  'fr_detect.onnx': { sha256: '6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854', size: 1217758 },
  'fr_landmark.onnx': { sha256: 'f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258', size: 1163742 },
  'fr_feature.onnx': { sha256: '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581', size: 4884269 },
};

export interface PrepareOptions {
  modelsDir?: string;
  quiet?: boolean;
  /** where npm tarballs are cached (default <modelsDir>/.cache) */
  cacheDir?: string;
  /** override how a tarball is obtained (tests); returns the .tgz path */
  fetchTarball?: (spec: string, cacheDir: string) => Promise<string>;
}

function sourceOf(file: string): string {
  return file === 'photo.onnx' ? PHOTO_SOURCE : `${FACE_SPEC}/model/${file}`;
}

function tarballName(spec: string): string {
  const at = spec.lastIndexOf('@');
  return `${spec.slice(0, at).replace(/^@/, '').replace('/', '-')}-${spec.slice(at + 1)}.tgz`;
}

function run(cmd: string, args: string[], cwd: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd, timeout: 300_000, maxBuffer: 16 << 20, shell: process.platform === 'win32' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')} failed: ${(stderr || err.message).trim().split('\n').slice(-3).join(' ')}`));
      else resolve(stdout);
    });
  });
}

/** `npm pack <spec>` into cacheDir (reusing a cached tarball). */
export async function npmPack(spec: string, cacheDirIn: string): Promise<string> {
  const cacheDir = path.resolve(cacheDirIn);
  fs.mkdirSync(cacheDir, { recursive: true });
  const dest = path.join(cacheDir, tarballName(spec));
  if (fs.existsSync(dest)) return dest;
  // pack into a private temp dir, then rename: concurrent preparers never see a half-written tarball
  const work = fs.mkdtempSync(path.join(cacheDir, '.pack-'));
  try {
    const npmCli = config.npmExecPath();
    const args = ['pack', spec, '--pack-destination', work, '--silent', '--ignore-scripts'];
    if (npmCli && /npm-cli\.(c?js)$/.test(npmCli)) await run(process.execPath, [npmCli, ...args], work);
    else await run('npm', args, work);
    const made = path.join(work, tarballName(spec));
    if (!fs.existsSync(made)) throw new Error(`npm pack ${spec} did not produce ${path.basename(made)}`);
    fs.renameSync(made, dest);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return dest;
}

/** The project's checked atomic write (every write checked, fsynced, size verified, then renamed). */
function writeAtomic(file: string, data: Uint8Array): void {
  writeFileAtomicSync(file, data);
}

function valid(modelsDir: string, file: string, sums: ChecksumsFile | undefined): boolean {
  const want = sums?.files[file];
  if (!want || sums?.sources?.[file] !== sourceOf(file)) return false;
  const p = path.join(modelsDir, file);
  try {
    if (fs.statSync(p).size !== want.size) return false;
  } catch {
    return false;
  }
  return sha256File(p) === want.sha256;
}

async function getPackageFiles(
  spec: string,
  cacheDir: string,
  fetch: (spec: string, cacheDir: string) => Promise<string>,
  want: (p: string) => boolean,
): Promise<Map<string, Buffer>> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const tgz = await fetch(spec, cacheDir);
    try {
      return extractTgz(fs.readFileSync(tgz), want);
    } catch (e) {
      // damaged cache entry: drop it and fetch again once
      fs.rmSync(tgz, { force: true });
      if (attempt === 1) throw new Error(`${tgz}: cannot read tarball: ${(e as Error).message}`);
    }
  }
  throw new Error('unreachable');
}

export async function prepareModels(opts: PrepareOptions = {}): Promise<ModelStatus[]> {
  const modelsDir = path.resolve(opts.modelsDir ?? defaultModelsDir());
  const cacheDir = opts.cacheDir ?? path.join(modelsDir, '.cache');
  const fetch = opts.fetchTarball ?? npmPack;
  const log = (s: string) => {
    if (!opts.quiet) process.stderr.write(`prepare-models: ${s}\n`);
  };
  fs.mkdirSync(modelsDir, { recursive: true });
  const sums: ChecksumsFile = readChecksums(modelsDir) ?? { version: 1, sources: {}, files: {} };
  sums.sources ??= {};
  const statuses: ModelStatus[] = [];
  let changed = false;

  const record = (file: string) => {
    const p = path.join(modelsDir, file);
    sums.files[file] = { sha256: sha256File(p), size: fs.statSync(p).size };
    sums.sources[file] = sourceOf(file);
    changed = true;
  };

  try {
    // photo
    if (valid(modelsDir, 'photo.onnx', sums)) {
      statuses.push({ name: 'photo', files: [path.join(modelsDir, 'photo.onnx')], status: 'ok' });
    } else {
      log(`fetching ${NSFWJS_SPEC}`);
      const prefix = 'package/dist/models/mobilenet_v2_mid/';
      const files = await getPackageFiles(NSFWJS_SPEC, cacheDir, fetch, (p) => p.startsWith(prefix) && p.endsWith('.min.js'));
      for (const [name, want] of Object.entries(NSFW_FILE_SHA256)) {
        const data = files.get(prefix + name);
        if (!data) throw new Error(`${NSFWJS_SPEC}: ${prefix.slice(8)}${name} not found in package`);
        const got = crypto.createHash('sha256').update(data).digest('hex');
        if (got !== want) throw new Error(`${NSFWJS_SPEC}: ${name} has sha256 ${got}, expected ${want}`);
      }
      const sources = new Map([...files].map(([k, v]) => [k.slice(prefix.length), v.toString('utf8')]));
      log('converting mobilenet_v2_mid to ONNX');
      const { model, weightData } = loadBundledGraphModel(sources);
      const onnx = convertTfjsGraph(model, weightData, {
        outputs: PHOTO_OUTPUTS,
        metadata: { source: PHOTO_SOURCE, converter: CONVERTER_VERSION },
      });
      writeAtomic(path.join(modelsDir, 'photo.onnx'), onnx);
      record('photo.onnx');
      statuses.push({ name: 'photo', files: [path.join(modelsDir, 'photo.onnx')], status: 'prepared' });
    }

    // face
    const faceFiles = MODEL_FILES.face as readonly string[];
    const bad = faceFiles.filter((f) => !valid(modelsDir, f, sums));
    if (bad.length === 0) {
      statuses.push({ name: 'face', files: faceFiles.map((f) => path.join(modelsDir, f)), status: 'ok' });
    } else {
      log(`fetching ${FACE_SPEC}`);
      const wanted = new Set(bad.map((f) => `package/model/${f}`));
      const files = await getPackageFiles(FACE_SPEC, cacheDir, fetch, (p) => wanted.has(p));
      for (const f of bad) {
        const data = files.get(`package/model/${f}`);
        if (!data) throw new Error(`${FACE_SPEC}: model/${f} not found in package`);
        const pin = FACE_FILE_SHA256[f]!;
        const got = crypto.createHash('sha256').update(data).digest('hex');
        if (got !== pin.sha256) throw new Error(`${FACE_SPEC}: model/${f} has sha256 ${got}, expected ${pin.sha256}`);
        writeAtomic(path.join(modelsDir, f), data);
        record(f);
      }
      statuses.push({ name: 'face', files: faceFiles.map((f) => path.join(modelsDir, f)), status: 'prepared' });
    }
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('MODEL_MISSING', `prepare-models: ${(e as Error).message}`);
  } finally {
    if (changed) writeAtomic(path.join(modelsDir, CHECKSUMS_FILE), Buffer.from(JSON.stringify(sums, null, 2) + '\n'));
  }
  for (const s of statuses) log(`${s.name}: ${s.status}`);
  return statuses;
}
