/**
 * Runs one hostile input through the scanner's decoder (readImage: metadata, pixel limit, full decode, thumbnail) and
 * the photo embedder's preprocessing, and classifies what happened. Shared by fuzz.test.ts and bench/fuzz.mts.
 */
import type { PhotoEmbedder } from '../core/models/index.ts';
import { readImage } from '../core/scan/scanner.ts';
import type { FuzzInput } from './fuzz-inputs.ts';

export interface FuzzOutcome {
  name: string;
  kind: string;
  bytes: number;
  scan: { ok: boolean; reason?: string; width?: number; height?: number; format?: string };
  preprocess: { ok: boolean; reason?: string; code?: string };
  /** a problem with the outcome itself: an unclean failure (no reason, wrong type), a bad tensor, a hang */
  problem: string | null;
  ms: number;
}

const SCAN_REASON = /^(empty file \(0 bytes\)|not a readable image \(.+\)|cannot decode image \(.+\)|image too large \(\d+x\d+ pixels, (limit|a side above) \d+\)|not a readable image \(no dimensions\))$/s;
const TENSOR = 224 * 224 * 3;

export async function runOne(inp: FuzzInput, thumbDir: string, embedder: PhotoEmbedder, timeoutMs = 20_000): Promise<FuzzOutcome> {
  const t0 = performance.now();
  const out: FuzzOutcome = { name: inp.name, kind: inp.kind, bytes: inp.buf.length, scan: { ok: false }, preprocess: { ok: false }, problem: null, ms: 0 };
  const problems: string[] = [];
  const guard = <T>(p: Promise<T>, what: string) => Promise.race([p, new Promise<never>((_, rej) => setTimeout(() => rej(Object.assign(new Error(`${what} hung for ${timeoutMs} ms`), { hang: true })), timeoutMs).unref())]);
  try {
    const img = await guard(readImage(inp.buf, thumbDir), 'scan');
    out.scan = { ok: true, width: img.width, height: img.height, format: img.format };
    if (!(img.width > 0 && img.height > 0) || img.width * img.height > 200_000_000) problems.push(`scan accepted ${img.width}x${img.height}`);
  } catch (e) {
    const err = e as Error & { hang?: boolean };
    out.scan = { ok: false, reason: err?.message };
    if (err?.hang) problems.push(err.message);
    else if (!(err instanceof Error) || !SCAN_REASON.test(err.message)) problems.push(`scan failed without a clean reason: ${String(err?.message ?? err)}`);
    else if (err.message.includes('\n')) problems.push('scan reason has several lines');
    else if (/:\s*\)$/.test(err.message)) problems.push(`scan reason lost its detail: ${err.message}`);
  }
  try {
    const tensor = await guard(embedder.preprocess(inp.buf), 'preprocess');
    out.preprocess = { ok: true };
    if (tensor.length !== TENSOR) problems.push(`preprocess gave ${tensor.length} values`);
    else if (!tensor.every(Number.isFinite)) problems.push('preprocess gave non-finite values');
  } catch (e) {
    const err = e as Error & { code?: string; hang?: boolean };
    out.preprocess = { ok: false, reason: err?.message, code: err?.code };
    if (err?.hang) problems.push(err.message);
    else if (err?.code !== 'BAD_IMAGE' && err?.code !== 'BAD_FILE') problems.push(`preprocess failed with ${err?.code ?? 'no code'}: ${err?.message}`);
    else if (!err.message || err.message.length > 400) problems.push('preprocess reason empty or too long');
  }
  out.problem = problems.length ? problems.join('; ') : null;
  out.ms = performance.now() - t0;
  return out;
}

/** Groups reasons into families for the report ("not a readable image (VipsJpeg: premature end of…)" → the decoder's word). */
export function reasonFamily(reason: string | undefined): string {
  if (!reason) return 'accepted';
  const m = /^(empty file|image too large|cannot decode image|not a readable image)(?: \(([^:()]+))?/.exec(reason);
  if (!m) return reason.slice(0, 60);
  return m[2] ? `${m[1]} (${m[2].trim().slice(0, 50)})` : m[1];
}
