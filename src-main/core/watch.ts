/**
 * Watched folders (library setting `watch`): new or changed photos in a library folder are scanned,
 * embedded (the setting's `watchModels`) and assigned to the newest run of each model without the CLI. The desktop
 * app and serve mode start it (`svc.watchFolders()`); CLI commands do not. Changes are collected per folder and
 * handled after a quiet period, one cycle at a time, through the usual jobs (progress and cancel as always); each
 * cycle ends with a 'watch' event naming what joined which group.
 */
import { readdirSync, statSync, watch, type FSWatcher } from 'node:fs';
import { basename, extname, join, sep } from 'node:path';
import type { LibrarySettings } from '../common/types.ts';
import type { AppApi } from '../common/api.ts';
import type { WatchSummary } from '../common/jobs.ts';
import type { Library } from './library.ts';
import { newestRunOf } from './store/runs.ts';

const IMAGE = new Set(['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff', '.gif', '.avif', '.heic', '.bmp']);

function isDir(p: string): boolean {
  try { return statSync(p).isDirectory(); } catch { return false; }
}
/** What a watcher drives: the library's folders, and scans, embeds and assigns through the AppApi. */
export type WatchTarget = Pick<AppApi, 'scan' | 'waitJob' | 'getSettings' | 'embed' | 'assign'> & { readonly lib: Library };

export type { WatchSummary };

/** One library folder watched: a non-recursive watcher per folder below it, or polling while the folder is gone. */
interface RootWatch { id: number; path: string; dirs: Map<string, FSWatcher>; poll: ReturnType<typeof setInterval> | null; ino: number }

/** How often a watched folder that went away (renamed, unmounted) is looked for again. */
const POLL_MS = 1000;

/** Disposing a watcher (`await using`) closes it: every folder's watcher and poll, after a cycle under way. */
export class FolderWatcher implements AsyncDisposable {
  private roots = new Map<number, RootWatch>();
  private pending = new Set<number>();
  private timer: ReturnType<typeof setTimeout> | null = null;
  private running: Promise<void> | null = null;
  private closed = false;

  constructor(private readonly svc: WatchTarget, private readonly quietMs = 1500, private readonly onCycle?: (s: WatchSummary) => void, private readonly pollMs = POLL_MS) {}

  /**
   * Follows the settings: watches every root while `watch` is on. Each folder gets its own non-recursive watcher
   * (Node's recursive watcher on Linux stalls the main process quadratically in a burst of new files: 3,000 files
   * 26 s); a folder made later gets one when it appears; a root that is renamed or removed is polled for until it is
   * back, then watched again and scanned.
   */
  update(s: LibrarySettings): void {
    if (this.closed) return;
    if (!s.watch) { this.stopAll(); return; }
    const roots = this.svc.lib.roots();
    const ids = new Set(roots.map((r) => r.id));
    for (const [id, rw] of this.roots) if (!ids.has(id)) { this.closeRoot(rw); this.roots.delete(id); }
    for (const r of roots) {
      if (this.roots.has(r.id)) continue;
      const rw: RootWatch = { id: r.id, path: r.path, dirs: new Map(), poll: null, ino: -1 };
      this.roots.set(r.id, rw);
      if (!this.addTree(rw, r.path)) this.startPolling(rw);
    }
  }

  /** Roots watched now (by watchers or by polling while they are away). */
  watching(): number[] { return [...this.roots.keys()]; }

  /** Folders with a watcher now, for tests and diagnostics. */
  watchedFolders(): string[] { return [...this.roots.values()].flatMap((rw) => [...rw.dirs.keys()]).sort(); }

  /** Watches `dir` and the folders below it (hidden ones skipped); false when `dir` itself cannot be watched. */
  private addTree(rw: RootWatch, dir: string): boolean {
    if (dir === rw.path) {
      try { rw.ino = statSync(dir).ino; } catch { return false; }
      this.startCheck();
    }
    const stack = [dir];
    let first = true, ok = false;
    while (stack.length) {
      const d = stack.pop()!;
      const isFirst = first;
      first = false;
      if (rw.dirs.has(d)) continue;
      try {
        const w = watch(d, { persistent: false }, (ev, file) => this.onEvent(rw, d, ev, file == null ? '' : String(file)));
        w.on('error', () => this.lost(rw, d));
        rw.dirs.set(d, w);
        ok = ok || isFirst;
      } catch {
        if (isFirst) return false;
        continue;
      }
      let ents;
      try { ents = readdirSync(d, { withFileTypes: true }); } catch { continue; }
      for (const e of ents) if (e.isDirectory() && !e.name.startsWith('.')) stack.push(join(d, e.name));
    }
    return ok;
  }

  private onEvent(rw: RootWatch, dir: string, ev: string, name: string): void {
    if (this.closed) return;
    if (name && IMAGE.has(extname(name).toLowerCase())) { this.mark(rw.id); return; }
    if (ev !== 'rename') return;
    // a folder appeared or went, or the watched folder itself was renamed away
    if (!isDir(rw.path)) { this.lost(rw, rw.path); return; }
    const p = name ? join(dir, name) : dir;
    if (isDir(p)) {
      if (!rw.dirs.has(p) && !basename(p).startsWith('.')) { this.addTree(rw, p); this.mark(rw.id); }
    } else if (rw.dirs.has(p)) {
      this.dropTree(rw, p);
      this.mark(rw.id);
    }
  }

  /** A watcher failed or its folder went: below the root, drop that subtree; the root itself, poll for it. */
  private lost(rw: RootWatch, dir: string): void {
    if (this.closed || this.roots.get(rw.id) !== rw) return;
    if (dir !== rw.path && isDir(rw.path)) { this.dropTree(rw, dir); return; }
    this.closeRoot(rw);
    this.startPolling(rw);
  }

  /**
   * Every poll period, each watched root is checked to be the folder watched (same inode): a root renamed away and
   * replaced by another folder of its name sends no event to the watchers, which follow the old folder.
   */
  private check: ReturnType<typeof setInterval> | null = null;
  private startCheck(): void {
    if (this.check || this.closed) return;
    this.check = setInterval(() => {
      for (const rw of this.roots.values()) {
        if (rw.poll) continue;
        let ino = -1;
        try { ino = statSync(rw.path).ino; } catch { /* gone */ }
        if (ino !== rw.ino) this.lost(rw, rw.path);
      }
    }, this.pollMs);
    this.check.unref?.();
  }

  private startPolling(rw: RootWatch): void {
    if (rw.poll || this.closed) return;
    rw.poll = setInterval(() => {
      if (this.closed || this.roots.get(rw.id) !== rw) { this.stopPolling(rw); return; }
      if (!isDir(rw.path)) return;
      this.stopPolling(rw);
      if (this.addTree(rw, rw.path)) this.mark(rw.id); // back: watched again, and scanned for what changed meanwhile
      else this.startPolling(rw);
    }, this.pollMs);
    rw.poll.unref?.();
  }

  private stopPolling(rw: RootWatch): void {
    if (rw.poll) { clearInterval(rw.poll); rw.poll = null; }
  }

  private dropTree(rw: RootWatch, dir: string): void {
    for (const [d, w] of rw.dirs) {
      if (d === dir || d.startsWith(dir + sep)) { try { w.close(); } catch { /* closed */ } rw.dirs.delete(d); }
    }
  }

  private closeRoot(rw: RootWatch): void {
    for (const w of rw.dirs.values()) { try { w.close(); } catch { /* closed */ } }
    rw.dirs.clear();
    this.stopPolling(rw);
  }

  private mark(rootId: number): void {
    this.pending.add(rootId);
    this.arm();
  }

  /** Debounced: a cycle after a quiet period, but never later than 10 quiet periods after the first change (a steady stream). */
  private firstAt = 0;
  private arm(): void {
    const now = Date.now();
    if (!this.timer) this.firstAt = now;
    else clearTimeout(this.timer);
    const wait = Math.max(0, Math.min(this.quietMs, this.firstAt + 10 * this.quietMs - now));
    this.timer = setTimeout(() => { this.timer = null; void this.cycle(); }, wait);
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
    for (const rw of this.roots.values()) this.closeRoot(rw);
    this.roots.clear();
    if (this.check) { clearInterval(this.check); this.check = null; }
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.stopAll();
    await this.running;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
