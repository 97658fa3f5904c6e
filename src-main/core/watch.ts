/**
 * Watched folders (issue 18, library setting `watch`): new or changed photos in a library folder are scanned,
 * embedded (the setting's `watchModels`) and assigned to the newest run of each model without the CLI. The desktop
 * app and serve mode start it (`svc.watchFolders()`); CLI commands do not. Changes are collected per folder and
 * handled after a quiet period, one cycle at a time, through the usual jobs (progress and cancel as always); each
 * cycle ends with a 'watch' event naming what joined which group.
 */
import { watch, type FSWatcher } from 'node:fs';
import { extname } from 'node:path';
import type { AssignReport, LibrarySettings, ScanResult } from '../common/types.ts';
import type { AppApi } from '../common/api.ts';
import type { Library } from './library.ts';
import { newestRunOf } from './store/runs.ts';

const IMAGE = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif', '.heic', '.bmp']);

/** What a watcher drives: the library's folders, and scans, embeds and assigns through the AppApi. */
export type WatchTarget = Pick<AppApi, 'scan' | 'waitJob' | 'getSettings' | 'embed' | 'assign'> & { readonly lib: Library };

export interface WatchSummary { rootIds: number[]; scan: ScanResult | null; embedded: Record<string, number>; assigned: AssignReport[] }

export class FolderWatcher {
  private watchers = new Map<number, FSWatcher>();
  private pending = new Set<number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly svc: WatchTarget, private readonly quietMs = 1500, private readonly onCycle?: (s: WatchSummary) => void) {}

  /** Follows the settings: watches every root while `watch` is on. */
  update(s: LibrarySettings): void {
    if (this.closed) return;
    if (!s.watch) { this.stopAll(); return; }
    const roots = this.svc.lib.roots();
    const ids = new Set(roots.map((r) => r.id));
    for (const [id, w] of this.watchers) if (!ids.has(id)) { w.close(); this.watchers.delete(id); }
    for (const r of roots) {
      if (this.watchers.has(r.id)) continue;
      try {
        const w = watch(r.path, { recursive: true, persistent: false }, (_e, file) => {
          if (file && !IMAGE.has(extname(String(file)).toLowerCase())) return;
          this.pending.add(r.id);
          this.arm();
        });
        w.on('error', () => { w.close(); this.watchers.delete(r.id); });
        this.watchers.set(r.id, w);
      } catch { /* a folder that cannot be watched (gone, or no permission) is scanned by hand */ }
    }
  }

  watching(): number[] { return [...this.watchers.keys()]; }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = null; void this.cycle(); }, this.quietMs);
  }

  /** One cycle: scan the changed folders, embed, assign. Waits for a cycle already running. */
  async cycle(): Promise<WatchSummary | null> {
    if (this.running) { await this.running; }
    if (this.pending.size === 0 || this.closed) return null;
    const rootIds = [...this.pending];
    this.pending.clear();
    let summary: WatchSummary | null = null;
    this.running = (async () => {
      const svc = this.svc;
      const s: WatchSummary = { rootIds, scan: null, embedded: {}, assigned: [] };
      const scan = await svc.waitJob({ id: (await svc.scan({ rootIds })).id });
      if (scan.kind === 'scan' && scan.state === 'done') s.scan = scan.result;
      const settings = await svc.getSettings();
      for (const model of settings.watchModels) {
        try {
          const e = await svc.waitJob({ id: (await svc.embed({ model })).id });
          if (e.kind !== 'embed' || e.state !== 'done' || !e.result) continue;
          s.embedded[model] = e.result.processed;
          if (e.result.assigned) { s.assigned.push(e.result.assigned); continue; }
          const runId = newestRunOf(svc.lib.db, e.result.model);
          if (runId !== undefined && e.result.processed > 0) s.assigned.push(await svc.assign({ runId }));
        } catch { /* a model not available here (not prepared, no manifest) is skipped */ }
      }
      summary = s;
      this.onCycle?.(s);
    })().finally(() => { this.running = null; });
    await this.running;
    return summary;
  }

  private stopAll(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopAll();
    await this.running;
  }
}
