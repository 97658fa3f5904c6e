/**
 * onnxruntime-node session creation with single-threaded defaults and clear model errors. Every session takes its
 * intra-op threads from the process-wide thread budget (core/thread-budget.ts) and gives them back when it is released.
 */
import { config } from '../config.ts';
import { sessionThreads } from '../thread-budget.ts';
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

/** A session that disposes (`await using`, `[Symbol.asyncDispose]()`) as it releases: the session and its threads. */
export type BudgetedSession = ort.InferenceSession & AsyncDisposable;

/**
 * The one door to ort.InferenceSession.create: the intra-op threads asked for (default 1) are what the thread budget
 * gives (the calling thread plus the extra ones free now); disposing the session (or its release()) gives them back.
 */
export async function budgetedSession(model: string | Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<BudgetedSession> {
  const { intraOpNumThreads, lease } = sessionThreads(options.intraOpNumThreads);
  let session: ort.InferenceSession;
  try {
    session = typeof model === 'string'
      ? await ort.InferenceSession.create(model, { ...options, intraOpNumThreads })
      : await ort.InferenceSession.create(model, { ...options, intraOpNumThreads });
  } catch (e) {
    lease[Symbol.dispose]();
    throw e;
  }
  const release = session.release.bind(session);
  session.release = async () => { try { await release(); } finally { lease[Symbol.dispose](); } };
  return Object.assign(session, { [Symbol.asyncDispose]: () => session.release() });
}

export async function createSession(file: string, opts?: RuntimeOptions): Promise<BudgetedSession> {
  if (!fs.existsSync(file)) throw new AppError('MODEL_MISSING', `${file}: model file missing; ${RESTORE_HINT}`);
  const base: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: opts?.intraOpNumThreads ?? 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  };
  const eps = executionProviders(opts);
  try {
    return await budgetedSession(file, { ...base, executionProviders: eps });
  } catch (e) {
    if (eps[0] !== 'cpu') {
      try {
        return await budgetedSession(file, { ...base, executionProviders: ['cpu'] });
      } catch {
        /* fall through to the error below */
      }
    }
    const why = ((e as Error).message ?? String(e)).split('\n')[0];
    throw new AppError('BAD_MODEL', `${file}: cannot load model (${why}); ${RESTORE_HINT}`);
  }
}

export { ort };
