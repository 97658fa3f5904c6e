/**
 * Clustering runs: starting one, reading its groups, members and assignments, renaming, deleting and comparing runs.
 */
import type { ApiArgs, ClusterOptions, PageQuery, RunRef, DeleteRunReport } from '../../common/api.ts';
import { AppError, badArg } from '../../common/errors.ts';
import type { ClusterRow, ItemKind, ItemView, RunInfo, Page } from '../../common/types.ts';
import type { JobInfo } from '../../common/jobs.ts';
import { readSnapshot } from '../jobs.ts';
import type { ClusterRequest } from '../../common/types.ts';
import { identityThresholdOf } from '../models/identity.ts';
import { planCluster } from '../cluster/plan.ts';
import { clusterJob } from '../cluster/cluster-job.ts';
import { getRun, listRuns, runCluster, runClusters } from '../store/runs.ts';
import { clusterMembers, itemViews, reviewQueue } from '../curation/items.ts';
import { getModel } from '../store/embeddings.ts';
import { adjustedMutualInfo, adjustedRandIndex, normalizedMutualInfo } from '../../algo/metrics.ts';
import { commonAssignments, deleteRunRows, runAssignments, writeRunRecord } from '../store/runs.ts';
import { embeddingCount } from '../store/embeddings.ts';
import { DomainService } from './context.ts';

export class RunsService extends DomainService {
  async cluster(o: ClusterOptions): Promise<JobInfo<'cluster'>> {
    const req = o.params as ClusterRequest;
    // refused when asked, never queued to fail in a worker: the model exists and the parameters fit its items
    const model = getModel(this.lib.db, o.model);
    const n = embeddingCount(this.lib.db, o.model);
    if (n < 2) throw badArg('model', `${o.model} has ${n} embedding(s): need at least 2 items to cluster`);
    const { params, preset } = planCluster(req, { n, d: model.dim, kind: model.kind, identity: identityThresholdOf(this.lib.db, o.model) });
    const { checkParams } = await import('../../algo/cluster/run.ts'); // the algorithms load only when a run is asked for
    checkParams(params, n);
    const spec = { model: o.model, params, labels: o.labels ?? null, ...(preset ? { preset } : {}) };
    return this.jobs.start('cluster', spec, (ctx) => clusterJob(this.lib, spec, ctx));
  }

  async listRuns(o?: { library?: string }): Promise<RunInfo[]> {
    if (o?.library !== undefined && o.library !== this.lib.path) throw new AppError('CONFLICT', `library: ${o.library} is not open (${this.lib.path} is)`);
    return listRuns(this.lib.db);
  }

  async getRun({ runId }: RunRef): Promise<RunInfo> {
    return getRun(this.lib.db, runId);
  }

  async getClusters({ runId, clusters }: RunRef & { clusters?: number[] }): Promise<ClusterRow[]> {
    return runClusters(this.lib.db, runId, clusters);
  }

  async getCluster({ runId, cluster }: RunRef & { cluster: number }): Promise<ClusterRow> {
    return runCluster(this.lib.db, runId, cluster);
  }

  async renameRun({ runId, name }: RunRef & { name: string }): Promise<RunInfo> {
    const before = getRun(this.lib.db, runId);
    const n = String(name ?? '').trim();
    const rec = { ...before.record };
    if (n) rec.name = n; else delete rec.name;
    writeRunRecord(this.lib.db, runId, rec);
    const was = typeof before.record.name === 'string' ? `'${before.record.name}'` : `run ${runId}`;
    this.emit({ type: 'run', runId, change: { action: 'rename-run', description: `rename ${was} → ${n ? `'${n}'` : `run ${runId}`}`, clusters: [] } });
    this.emit({ type: 'library', info: this.lib.info() });
    return getRun(this.lib.db, runId);
  }

  async deleteRun({ runId }: RunRef): Promise<DeleteRunReport> {
    const run = getRun(this.lib.db, runId);
    const busy = this.jobs.active().find((j) => (j.params as { runId?: number } | null)?.runId === runId);
    if (busy) throw new AppError('CONFLICT', `run ${runId} is in use by job ${busy.id} (${busy.kind}); wait for it or cancel it`);
    const report: DeleteRunReport = { runId, ...deleteRunRows(this.lib.db, runId) };
    this.emit({ type: 'run', runId, change: { action: 'delete-run', description: `delete run ${runId} (${run.model} · ${run.algo}: ${report.clusters} clusters, ${report.named} named or curated)`, clusters: [] } });
    this.emit({ type: 'library', info: this.lib.info() });
    return report;
  }

  async compareRuns({ a, b }: { a: number; b: number }): Promise<{ a: RunInfo; b: RunInfo; common: number; ari: number; ami: number; nmi: number }> {
    // both runs from one snapshot
    const { ra, rb, rows } = readSnapshot(this.lib.db, () => ({
      ra: getRun(this.lib.db, a), rb: getRun(this.lib.db, b),
      rows: commonAssignments(this.lib.db, a, b),
    }));
    if (ra.kind !== rb.kind) throw badArg('b', `run ${a} groups ${ra.kind}s and run ${b} groups ${rb.kind}s: only runs over the same kind of items can be compared`);
    if (rows.length === 0) throw new AppError('CONFLICT', `runs ${a} and ${b} share no items`);
    const la = rows.map((r) => r.ca), lb = rows.map((r) => r.cb);
    return { a: ra, b: rb, common: rows.length, ari: adjustedRandIndex(la, lb), ami: adjustedMutualInfo(la, lb), nmi: normalizedMutualInfo(la, lb) };
  }

  async getAssignments({ runId }: RunRef): Promise<{ runId: number; kind: ItemKind; ids: Int32Array; clusters: Int32Array }> {
    const run = getRun(this.lib.db, runId);
    const { ids, clusters } = runAssignments(this.lib.db, runId);
    return { runId, kind: run.kind, ids, clusters };
  }

  async getClusterMembers({ runId, cluster, offset = 0, limit = 200, order = 'desc' }: ApiArgs<'getClusterMembers'>): Promise<Page<ItemView>> {
    return clusterMembers(this.lib.db, runId, cluster, offset, limit, order === 'asc' ? 'asc' : 'desc');
  }

  async getItems({ kind, ids, runId }: { kind: ItemKind; ids: number[]; runId?: number }): Promise<ItemView[]> {
    return itemViews(this.lib.db, kind, ids, runId);
  }

  async getReviewQueue({ runId, offset = 0, limit = 200, maxSim = 0.6 }: RunRef & PageQuery & { maxSim?: number }): Promise<Page<ItemView>> {
    return reviewQueue(this.lib.db, runId, offset, limit, maxSim);
  }
}
