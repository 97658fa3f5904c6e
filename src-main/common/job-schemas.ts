/**
 * The job-kind map, validated: every job kind's params and result schema. common/jobs.ts infers the JobKinds types
 * from it (so each job's shapes are written once, here); common/schemas.ts checks a finished job's result against it.
 * Pure: no Node, no Electron.
 */
import * as v from 'valibot';
import { EXPORT_FORMATS, FACE_EXPORTS, LINK_MODES, SIMILAR_COMBINES, SWEEP_SCORES, SWEEP_SCORE_NAMES, id, opt, picklist } from './schema-kit.ts';
import { itemRefSchema, mapParamsSchema } from './arg-schemas.ts';
import { CLUSTER_PRESETS, clusterParamsSchema, type ClusterParams } from './cluster-contract.ts';
import {
  anyNum, clusterReportSchema, downloadResultEntries, embedReportSchema, exportJobReportSchema, exportRunReportSchema, importEmbeddingsFileReportSchema,
  importRunReportSchema, mapInfoEntries, nint, nul, rec, scanResultSchema, str, sweepKindSchema, sweepPointSchema,
} from './result-shapes.ts';

/** What an embed job is started with: a model ('photo', 'face' or a manifest path) and, for faces, the detector's settings. */
export const embedSpecSchema = v.object({
  model: str(), workers: opt(nint()), batch: opt(nint()), modelsDir: opt(str()),
  /** excludeFolders: photos under these folders are not searched for faces (the library setting) */
  face: opt(v.object({ scoreThreshold: opt(anyNum()), minFaceSize: opt(anyNum()), minQuality: opt(anyNum()), excludeFolders: opt(v.array(str())) })),
});
/** What a cluster job is started with (its parameters planned: the algorithm always set; `labels`: 'folders', 'imported' or a file). */
export const clusterSpecSchema = v.object({ model: str(), params: clusterParamsSchema as unknown as v.GenericSchema<ClusterParams>, labels: opt(nul(str())) });
/**
 * What a preset chose and why (a cluster job's `preset`, stored in the run's record.preset): its own parameters for
 * this data before explicit ones, why, the explicit parameters that replaced its values; people: the impostor tail the
 * linking similarity is computed with in the worker, and what that found (the library's thresholds; the groups of
 * average linkage on the kNN graph).
 */
export const presetRecordSchema = v.object({
  name: v.picklist(CLUSTER_PRESETS), chose: clusterParamsSchema as unknown as v.GenericSchema<ClusterParams>, why: v.array(str()), overridden: v.array(str()),
  tail: opt(v.object({ a: anyNum(), b: anyNum(), set: str() })),
  link: opt(v.object({ similarity: anyNum(), sure: anyNum(), maybe: anyNum(), n: nint(), k: nint(), groups: nint(), largest: nint() })),
});
export const exportSpecSchema = v.object({
  runId: id(), to: str(), format: picklist(EXPORT_FORMATS), link: picklist(LINK_MODES),
  faces: opt(picklist(FACE_EXPORTS)), dryRun: v.boolean(), curatedOnly: v.boolean(), includeNoise: v.boolean(),
});
export const mapSpecSchema = v.object({ model: str(), params: mapParamsSchema });

/** Every job kind's params and result schemas (the job-kind map, validated). */
export const JOB_SCHEMAS = {
  scan: { params: v.object({ rootIds: v.array(id()) }), result: scanResultSchema },
  embed: {
    params: embedSpecSchema,
    result: embedReportSchema,
  },
  // a job's parameters are planned (the preset resolved): its algorithm is always set
  cluster: { params: clusterSpecSchema, result: clusterReportSchema },
  export: {
    params: exportSpecSchema,
    result: exportRunReportSchema,
  },
  map: { params: mapSpecSchema, result: v.object({ ...mapInfoEntries, seconds: anyNum() }) },
  sweep: {
    params: v.object({
      model: str(), kind: sweepKindSchema, values: v.array(anyNum()),
      options: v.object({ minSamples: opt(anyNum()), minClusters: opt(anyNum()), maxNoiseShare: opt(anyNum()), score: opt(picklist(SWEEP_SCORES)), labels: opt(nul(str())) }),
    }),
    result: v.object({
      model: str(), kind: sweepKindSchema, points: v.array(sweepPointSchema), best: nul(sweepPointSchema), scoreName: opt(picklist(SWEEP_SCORE_NAMES)),
      labels: opt(v.object({ source: str(), known: nint(), classes: nint() })),
    }),
  },
  download: { params: v.object({ id: str() }), result: v.object({ ...downloadResultEntries, manifest: nul(str()) }) },
  similar: {
    params: v.object({ model: str(), item: itemRefSchema, k: nint(), selection: opt(nint()), combine: opt(picklist(SIMILAR_COMBINES)) }),
    result: v.object({ items: nint() }),
  },
  neardup: { params: v.object({ model: str(), threshold: anyNum() }), result: v.object({ groups: nint() }) },
  split: {
    params: v.object({ runId: id(), cluster: nint(), k: opt(nint()), algo: opt(str()) }),
    result: rec(),
  },
  /** the compute half of a 'recluster' edit: where the undecided items go in the learned metric */
  recluster: { params: v.object({ runId: id() }), result: v.object({ moved: nint(), regrouped: nint() }) },
  importEmbeddings: {
    params: v.object({ file: str(), model: str(), idColumn: opt(str()), vectorColumn: opt(str()) }),
    result: importEmbeddingsFileReportSchema,
  },
  importRun: {
    params: v.object({ file: str(), model: str(), idColumn: opt(str()), clusterColumn: opt(str()) }),
    result: importRunReportSchema,
  },
  exportJob: {
    params: v.object({ model: str(), to: str(), partitionRows: opt(nint()) }),
    result: exportJobReportSchema,
  },
};
