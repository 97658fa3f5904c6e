/** What every CLI command gets: parsed options, output helpers, and the library opened on demand. */
import { resolve } from 'node:path';
import type { AppApi } from '../common/api.ts';
import { checkedApi } from '../common/dispatch.ts';
import { AppError } from '../common/errors.ts';
import type { JobKind, JobResult } from '../common/jobs.ts';
import type { AppEvent, JobInfo } from '../common/jobs.ts';
import { defaultLibraryPath } from '../core/library.ts';
import { isJobOf, jobResult } from '../common/schemas.ts';
import { config } from '../core/config.ts';
import { CoreService } from '../core/service.ts';
import type { Parsed } from './args.ts';

export class CliContext {
  private service: CoreService | null = null;
  constructor(readonly parsed: Parsed) {}

  get json(): boolean { return !!this.parsed.options.json; }
  opt<T extends string | number | boolean | string[]>(name: string): T | undefined {
    return this.parsed.options[name] as T | undefined;
  }
  get libraryPath(): string {
    const l = this.opt<string>('library');
    return l ? resolve(l) : defaultLibraryPath();
  }

  /** Opens the library for writing; with `readFallback`, a library locked by another instance is opened read-only. */
  open(opts: { readFallback?: boolean } = {}): CoreService {
    if (!this.service) {
      try {
        this.service = CoreService.open(this.libraryPath);
      } catch (e) {
        // locked by another instance, on read-only media, or a file/folder this user may not write (no lock file can
        // be made, SQLite cannot write beside it): inspect it read-only
        const code = (e as { code?: string }).code;
        const readOnlyMedia = code === 'IO' && /(lock file|cannot open the library) .*\((the file system is read-only|permission denied|operation not permitted|the library file or its folder is read-only)/.test((e as Error).message);
        if (!opts.readFallback || (code !== 'LIBRARY_LOCKED' && !readOnlyMedia)) throw e;
        this.service = CoreService.open(this.libraryPath, { readonly: true });
      }
    }
    return this.service;
  }

  /** The library through the AppApi contract, every call validated at the door as on the other transports. */
  api(opts: { readFallback?: boolean } = {}): AppApi & { onEvent(l: (e: AppEvent) => void): () => void } {
    const svc = this.open(opts);
    return Object.assign(checkedApi(svc, { checkResults: config.checkResults() }), { onEvent: (l: (e: AppEvent) => void) => svc.onEvent(l) });
  }

  async close(): Promise<void> {
    await this.service?.close();
    this.service = null;
  }

  /** Result: JSON on stdout with --json, else the human text. */
  out(value: unknown, human: string): void {
    if (this.json) process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    else process.stdout.write(human.endsWith('\n') ? human : human + '\n');
  }

  /** Progress lines on stderr, throttled. */
  progress(): (stage: string, done: number, total: number) => void {
    let last = 0;
    let lastStage = '';
    const tty = process.stderr.isTTY && !this.json;
    return (stage, done, total) => {
      const now = Date.now();
      if (stage === lastStage && now - last < (tty ? 100 : 1000) && done !== total) return;
      last = now; lastStage = stage;
      const pct = total > 0 ? ` ${Math.floor((100 * done) / total)}%` : '';
      const line = `${stage} ${done}${total > 0 ? `/${total}` : ''}${pct}`;
      if (tty) process.stderr.write(`\r\x1b[2K${line}`);
      else process.stderr.write(line + '\n');
    };
  }

  /** A finished job's typed result, or its error (a cancelled job is CANCELLED) thrown with the job's own code. */
  result<K extends JobKind>(job: JobInfo<K>): JobResult<K> {
    const result = job.state === 'done' ? jobResult(job) : null;
    if (result !== null) return result;
    throw new AppError(job.error?.code ?? (job.state === 'cancelled' ? 'CANCELLED' : 'INTERNAL'), job.error?.message ?? `${job.kind} job ${job.id} ${job.state}`);
  }

  /** Runs a job to its end with progress on stderr; Ctrl-C cancels it cleanly. */
  async runJob<K extends JobKind>(start: () => Promise<JobInfo<K>>): Promise<JobInfo<K>> {
    const svc = this.api();
    const report = this.progress();
    let jobId = -1;
    const off = svc.onEvent((e) => {
      if (e.type === 'job' && e.job.id === jobId) report(e.job.progress.stage, e.job.progress.done, e.job.progress.total);
    });
    const onSig = () => { if (jobId > 0) void svc.cancelJob({ id: jobId }).catch(() => {}); };
    process.once('SIGINT', onSig);
    process.once('SIGTERM', onSig);
    try {
      const job = await start();
      jobId = job.id;
      const end = await svc.waitJob({ id: job.id });
      if (process.stderr.isTTY && !this.json) process.stderr.write('\n');
      if (!isJobOf(end, job.kind)) throw new AppError('INTERNAL', `job ${job.id} came back as a ${end.kind} job, not ${job.kind}`);
      return end;
    } finally {
      off();
      process.off('SIGINT', onSig);
      process.off('SIGTERM', onSig);
    }
  }
}
