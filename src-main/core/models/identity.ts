/**
 * Identity thresholds stored with the models: the cosine similarity at which two faces are the same person, measured
 * by the project on labeled verification pairs (bench/identity.mts: every pair of faces of ../shared faces-orl, the
 * threshold at a stated false-accept rate) and reported on the other labeled set (faces-london), never on its own
 * calibration data. Manifest models may state one (`identityThreshold: {similarity, far, set, tail?: {a, b, set}}` in
 * the manifest).
 */
import type { IdentityThreshold } from '../../common/types.ts';
import type { Db } from '../store/db.ts';
import { modelSourceInfo } from '../store/embeddings.ts';

/**
 * The built-in face model (MobileFaceNet, 512-d): calibrated on faces-orl (386 faces found in 400 crops, 1,689
 * genuine and 72,616 impostor pairs) at a false-accept rate of 1e-4; on faces-london (60 faces, 30 genuine and 1,740
 * impostor pairs) it accepts no impostor and every genuine pair. See BENCHMARKS.md "Identity threshold".
 */
export const FACE_IDENTITY: IdentityThreshold = {
  similarity: 0.465, far: 1e-4, set: 'faces-orl',
  heldOut: { set: 'faces-london', far: 0, tar: 1 },
  // the standardized impostor tail (algo/cluster/identity-scale.ts calibrateImpostorTail) fitted on every pair of
  // faces-orl; each library's sure / maybe thresholds come from it and the library's own pairs (BENCHMARKS.md "People
  // decisions"), reported on faces-london and the mixed library, never on ORL itself
  tail: { a: 1.7366, b: 0.3525, loc: 0.0631, scale: 0.1123, set: 'faces-orl' },
};

/**
 * The tail used for a model that states none (a manifest model, a bare matrix): the face model's. The shape of a
 * standardized impostor tail moves less between models than the raw similarities do (the library's own median and
 * MAD carry the rest); the run's record says which tail it used.
 */
export const DEFAULT_TAIL: NonNullable<IdentityThreshold['tail']> = { a: 1.7366, b: 0.3525, loc: 0.0631, scale: 0.1123, set: 'faces-orl (the built-in face model; this model states no tail)' };

/** The calibrated thresholds of the built-in models, by model name. */
export const BUILTIN_IDENTITY: Record<string, IdentityThreshold> = { face: FACE_IDENTITY };

/** A manifest's optional `identityThreshold`, checked (null when absent or malformed). */
export function manifestIdentity(raw: unknown): IdentityThreshold | null {
  if (!raw || typeof raw !== 'object') return null;
  const t = raw as Record<string, unknown>;
  if (typeof t.similarity !== 'number' || !(t.similarity > -1 && t.similarity < 1)) return null;
  const far = typeof t.far === 'number' && t.far > 0 && t.far < 1 ? t.far : NaN;
  const set = typeof t.set === 'string' ? t.set : 'manifest';
  const tl = t.tail as Record<string, unknown> | undefined;
  const tail = tl && typeof tl === 'object' && typeof tl.a === 'number' && Number.isFinite(tl.a) && typeof tl.b === 'number' && tl.b > 0
    ? { a: tl.a, b: tl.b, set: typeof tl.set === 'string' ? tl.set : set, ...(typeof tl.loc === 'number' && typeof tl.scale === 'number' && tl.scale > 0 ? { loc: tl.loc, scale: tl.scale } : {}) } : undefined;
  return { similarity: t.similarity, far, set, ...(tail ? { tail } : {}) };
}

/** The identity threshold of a model in this library: built in, or stated by its manifest; null when it has none. */
export function identityThresholdOf(db: Db, model: string): IdentityThreshold | null {
  const r = modelSourceInfo(db, model);
  if (!r) return null;
  if (r.source === 'builtin') return BUILTIN_IDENTITY[model] ?? null;
  try {
    const info = JSON.parse(r.info) as { identityThreshold?: unknown };
    return manifestIdentity(info.identityThreshold);
  } catch { return null; }
}
