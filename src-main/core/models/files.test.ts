import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyModel } from './files.ts';
import { ensureModels } from '../../testing/models.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-files-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('model checksums', () => {
  it('a file checked once is remembered by its identity on disk: one damaged since (same size) is hashed and refused again', async () => {
    const modelsDir = await ensureModels();
    const dir = path.join(tmp, 'models');
    fs.mkdirSync(dir);
    for (const f of ['fr_detect.onnx', 'fr_landmark.onnx', 'fr_feature.onnx', 'checksums.json']) fs.copyFileSync(path.join(modelsDir, f), path.join(dir, f));
    expect(verifyModel('face', dir)).toHaveLength(3);
    const file = path.join(dir, 'fr_landmark.onnx');
    expect(verifyModel('face', dir)).toHaveLength(3); // checked again: remembered
    // damaged in place, same size: its modification time moves, so it is hashed again and refused
    const bytes = fs.readFileSync(file);
    bytes[1000] ^= 0xff;
    fs.writeFileSync(file, bytes);
    fs.utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(() => verifyModel('face', dir)).toThrow(/fr_landmark\.onnx: model file damaged \(checksum mismatch/);
  });
});
