/** onnxruntime-node session creation with single-threaded defaults and clear model errors. */
import { config } from '../config.ts';
import fs from 'node:fs';
import ort from 'onnxruntime-node';
import { AppError } from '../../common/errors.ts';
import { RESTORE_HINT } from './files.ts';

export interface RuntimeOptions {
  /** 'cuda' tries CUDA first then CPU. Default: env CONSTELLATE_ORT_EP ('cuda'|'cpu') or 'cpu'. */
  device?: 'cpu' | 'cuda';
  intraOpNumThreads?: number;
}

export function executionProviders(opts?: RuntimeOptions): string[] {
  const dev = opts?.device ?? config.ortDevice();
  return dev === 'cuda' ? ['cuda', 'cpu'] : ['cpu'];
}

export async function createSession(file: string, opts?: RuntimeOptions): Promise<ort.InferenceSession> {
  if (!fs.existsSync(file)) throw new AppError('MODEL_MISSING', `${file}: model file missing; ${RESTORE_HINT}`);
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: opts?.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  const eps = executionProviders(opts);
  try {
    return await ort.InferenceSession.create(file, { ...base, executionProviders: eps });
  } catch (e) {
    if (eps[0] !== 'cpu') {
      try {
        return await ort.InferenceSession.create(file, { ...base, executionProviders: ['cpu'] });
      } catch {
        /* fall through to the error below */
      }
    }
    const why = ((e as Error).message ?? String(e)).split('\n')[0];
    throw new AppError('BAD_MODEL', `${file}: cannot load model (${why}); ${RESTORE_HINT}`);
  }
}

export { ort };
