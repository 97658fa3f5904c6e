/**
 * Text search: the photos whose CLIP image vectors are nearest (cosine) to a text's CLIP text vector. The text
 * encoder and its tokenizer are named by the image model's manifest (`text`, models/text-encoder.ts), so the text is
 * encoded into the same space the library's photos were embedded in; both sides are L2-normalized. The other filters
 * of the search (group, folder, dates, file name) narrow the photos ranked. Where no model of the library has a text
 * encoder installed, the error (MODEL_MISSING) says what to install and which files are missing.
 */
import { existsSync, readFileSync } from 'node:fs';
import { AppError, badArg } from '../../common/errors.ts';
import type { SearchOptions, SearchResult } from '../../common/api.ts';
import { readSnapshot } from '../jobs.ts';
import { validateManifest } from '../models/manifest.ts';
import { textFiles, type TextEncoderSpec } from '../models/text-encoder.ts';
import { modelRows } from '../store/library-repo.ts';
import { getModel } from '../store/embeddings.ts';
import type { Db } from '../store/db.ts';
import { runTask } from '../workers/pool.ts';
import { filteredIds, hasFilters } from './search.ts';
import { itemViews } from './items.ts';

/** What to install for text search, said in every refusal. */
export const TEXT_SEARCH_NEEDS = 'text search needs a CLIP model: from the model catalog, clip-vit-b32-vision (the image encoder) and clip-vit-b32-text (its text encoder and tokenizer); then embed the photos with clip-vit-b32-vision';

export interface TextModel { name: string; manifestPath: string; spec: TextEncoderSpec; dim: number; files: { model: string; tokenizer: string } }

function missing(msg: string): AppError {
  return new AppError('MODEL_MISSING', `${msg}. ${TEXT_SEARCH_NEEDS[0]!.toUpperCase()}${TEXT_SEARCH_NEEDS.slice(1)}`);
}

/** The text side of one library model, or why it has none (an AppError, MODEL_MISSING unless the model is wrong). */
function textModel(db: Db, name: string): TextModel {
  const row = getModel(db, name);
  if (row.kind !== 'photo') throw badArg('model', `${name} embeds ${row.kind}s; text search ranks photos by a CLIP model's image vectors`);
  const manifestPath = typeof row.info?.manifest === 'string' ? row.info.manifest : null;
  if (!manifestPath) throw missing(`model ${name} (${row.source}) has no text encoder`);
  if (!existsSync(manifestPath)) throw missing(`model ${name}: its manifest ${manifestPath} is missing`);
  let raw: unknown;
  try { raw = JSON.parse(readFileSync(manifestPath, 'utf8')); } catch (e) {
    throw new AppError('BAD_MODEL', `${manifestPath}: cannot read the manifest (${(e as Error).message.split('\n')[0]})`);
  }
  const m = validateManifest(raw, manifestPath);
  if (!m.text) throw missing(`model ${name}: its manifest ${manifestPath} names no text encoder (field 'text')`);
  const files = textFiles(m.text, manifestPath);
  const absent = [files.model, files.tokenizer].filter((f) => !existsSync(f));
  if (absent.length) throw missing(`model ${name}: its text encoder is not installed (missing ${absent.join(', ')})`);
  return { name, manifestPath, spec: m.text, dim: row.dim, files };
}

/** The model text search uses: `model` when given, else the library's first photo model with a text encoder. */
export function textModelOf(db: Db, model?: string): TextModel {
  if (model !== undefined) return textModel(db, model);
  const photos = modelRows(db).filter((m) => m.kind === 'photo');
  let first: AppError | null = null;
  for (const m of photos) {
    try { return textModel(db, m.name); } catch (e) {
      if (!(e instanceof AppError)) throw e;
      // a model with a text section but missing files says more than one without any
      if (!first || /text encoder is not installed|names no text encoder/.test(e.message)) first = e;
    }
  }
  if (first && /text encoder is not installed/.test(first.message)) throw first;
  throw missing(`no photo model of this library has a text encoder (photo models: ${photos.map((m) => m.name).join(', ') || 'none yet'})`);
}

/** A model's embeddings with L2-normalized rows (the service's cache). */
export type NormalizedMatrix = (model: string) => Promise<{ ids: Int32Array; X: Float32Array; n: number; d: number }>;

/** The photos nearest to the text, best first (at most `limit`, default 200), among those the other filters pass. */
export async function searchByText(db: Db, o: SearchOptions, matrixOf: NormalizedMatrix): Promise<SearchResult> {
  const text = (o.text ?? '').trim();
  if (!text) throw badArg('text', 'give some words to search for');
  if (o.kind !== 'photo') throw badArg('kind', 'text search finds photos (CLIP embeds whole photos); search faces by person, folder, date or file name');
  const tm = textModelOf(db, o.model);
  // encoded in a worker (./text-tasks.ts), where the encoder stays loaded
  const q = await runTask('textEmbed', { spec: tm.spec, manifestPath: tm.manifestPath, dim: tm.dim, files: tm.files, text });
  const m = await matrixOf(tm.name);
  if (m.d !== q.length) throw new AppError('BAD_MODEL', `${tm.files.model}: its text vectors have ${q.length} dimensions but the ${tm.name} embeddings have ${m.d}`);
  let among: Int32Array | undefined;
  if (hasFilters(o)) {
    const rowOf = new Map(Array.from(m.ids, (id, i) => [id, i]));
    const ids = readSnapshot(db, () => filteredIds(db, o));
    among = Int32Array.from(ids.map((id) => rowOf.get(id) ?? -1).filter((r) => r >= 0));
  }
  const limit = Math.min(o.limit ?? 200, 5000);
  const k = Math.min(limit, among ? among.length : m.n);
  if (k < 1) return { kind: 'photo', total: 0, ids: new Int32Array(0), items: [], scores: new Float32Array(0), model: tm.name };
  const r = await runTask('similar', { X: m.X, n: m.n, d: m.d, row: 0, k, normalized: true, query: q, among });
  const ids = Array.from(r.indices, (i) => m.ids[i]!);
  // a photo removed since the matrix was read has no view: its id and score go too
  const views = readSnapshot(db, () => itemViews(db, 'photo', ids, o.runId));
  const at = new Map(ids.map((id, t) => [id, t]));
  return {
    kind: 'photo', total: views.length, ids: Int32Array.from(views, (v) => v.item), items: views,
    scores: Float32Array.from(views, (v) => r.sims[at.get(v.item)!]!), model: tm.name,
  };
}
