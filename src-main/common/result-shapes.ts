/**
 * Result schemas whose TypeScript types are inferred from them (api.ts, types.ts): each shape written once, here.
 * common/schemas.ts uses them in API_RESULT_SCHEMAS. Pure: no Node, no Electron.
 */
import * as v from 'valibot';
import { id, range, text } from './schema-kit.ts';

const anyNum = () => v.number();
const nint = () => v.pipe(v.number(), v.integer());
const str = () => v.string();
const nul = <T extends v.GenericSchema>(s: T) => v.nullable(s);

/** What removing a folder removed: the folder's path, its photos and faces. */
export const removeFolderReportSchema = v.object({ removed: str(), photos: nint(), faces: nint() });
/** One finding of the library check (`constellate check`). */
export const checkProblemSchema = v.object({ kind: str(), message: str(), count: nint() });
export const checkReportSchema = v.object({ ok: v.boolean(), problems: v.array(checkProblemSchema) });
export const backupInfoSchema = v.object({ path: str(), version: nint(), at: nint(), size: nint(), preMigration: v.boolean() });
export const deleteRunReportSchema = v.object({ runId: id(), clusters: nint(), named: nint(), items: nint(), edits: nint() });
/** checkLibrary: the library file at `path` (absolute), whether it is there yet, whether it is the one open now, its schema version (0: a new one). */
export const libraryCheckSchema = v.object({ path: str(), exists: v.boolean(), current: v.boolean(), version: nint() });
/** A library in the recent list: its path, file name (for menus), when it was last opened (ms), whether it is still there, whether it is open now. */
export const recentLibrarySchema = v.object({ path: str(), name: str(), openedAt: nint(), exists: v.boolean(), current: v.boolean() });
/** A run's item states, counted: members the user decided (by how) and members placed by the run (decided + placed = the run's members). */
export const itemStatesReportSchema = v.object({ runId: id(), decided: nint(), placed: nint(), byHow: v.record(v.string(), nint()) });
/**
 * What `learn` trained: the model it is for, the decisions used (pairs), held out, held-out accuracy before/after
 * (null: none held out), the metric's version for the model (one more per training) and output dimension, and whether
 * the queues use it (only a metric better than the model's own cosine on the held-out decisions).
 */
export const learnReportSchema = v.object({
  runId: id(), model: text(), pairs: nint(), heldOut: nint(), before: nul(range(0, 1)), after: nul(range(0, 1)), version: id(), dims: id(), seconds: anyNum(), used: v.boolean(),
});
/**
 * What exportXmp wrote: photos with at least one named face, face regions written, sidecars created, updated and
 * unchanged (already said the same: not rewritten), and the failures.
 */
export const exportXmpReportSchema = v.object({
  runId: id(), photos: nint(), regions: nint(), created: nint(), updated: nint(), unchanged: nint(), failed: nint(),
  failures: v.array(v.object({ path: str(), reason: str() })),
});
