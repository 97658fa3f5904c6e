/**
 * The library an app instance serves, swappable: the desktop app and serve mode hold one LibraryHost and call the
 * service it holds now; `openLibrary` (through the AppApi) opens another library file with the same open path as at
 * start (lock, migrations, the backup made before migrating) and only then closes the old one (its watcher stopped,
 * the writer lock released). A library that fails to open (damaged, locked by another Constellate, not writable, not
 * a library) leaves the old one open and serving; the error says why. The recent libraries are kept outside any
 * library, in the user data folder (`recent-libraries.json`).
 */
import type { RecentLibrary } from '../common/api.ts';
import { AppError } from '../common/errors.ts';
import type { LibraryInfo } from '../common/types.ts';
import type { AppEvent } from '../common/jobs.ts';
import { checkLibraryPath, recentLibraries, recentLibrariesFile, rememberLibrary } from './recent-libraries.ts';
import { CoreService, type CoreListener } from './service.ts';


export class LibraryHost {
  private current: CoreService;
  private listeners = new Set<CoreListener>();
  private detach: () => void;
  private opening = false;
  readonly recentFile: string;

  constructor(service: CoreService, opts: { recentFile?: string; remember?: boolean } = {}) {
    this.current = service;
    this.recentFile = opts.recentFile ?? recentLibrariesFile();
    this.detach = this.attach(service);
    if (opts.remember !== false) rememberLibrary(service.lib.path, this.recentFile);
  }

  /** The service of the library open now (transports call it per request: it changes on a switch). */
  get service(): CoreService { return this.current; }

  /** Events of whichever library is open (the listener stays across switches). */
  onEvent(l: CoreListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(e: AppEvent): void {
    for (const l of this.listeners) {
      try { l(e); } catch { /* listeners never break the host */ }
    }
  }

  private attach(service: CoreService): () => void {
    service.host = this;
    const off = service.onEvent((e) => this.emit(e));
    return () => { off(); if (service.host === this) service.host = null; };
  }

  /**
   * Opens the library at `path` (`~` expanded; a relative path is refused) and serves it from now on; `create` makes
   * a new library there when no file is. Refused while a job runs (CONFLICT naming it). On any failure to open, the
   * library open before stays open and this throws the reason.
   */
  async open(path: string, create = false): Promise<LibraryInfo> {
    const old = this.current;
    const checked = checkLibraryPath(path, create, old.lib.path);
    const abs = checked.path;
    if (checked.current) return old.lib.info();
    if (this.opening) throw new AppError('CONFLICT', 'another library is being opened: wait for it');
    const busy = old.jobs.active()[0];
    if (busy) throw new AppError('CONFLICT', `job ${busy.id} (${busy.kind}) is running in ${old.lib.path}: wait for it or cancel it, then open another library`);
    this.opening = true;
    try {
      // the new one first: a library that cannot be opened leaves the old one serving, untouched
      const next = CoreService.open(abs);
      const watching = old.watching;
      this.detach();
      this.current = next;
      this.detach = this.attach(next);
      try { await old.close(); } catch { /* the old library's close (checkpoint) failed: the new one serves regardless */ }
      if (watching) next.watchFolders();
      rememberLibrary(next.lib.path, this.recentFile);
      const info = next.lib.info();
      // every client resets to the new library (its info names another file)
      this.emit({ type: 'library', info });
      return info;
    } finally {
      this.opening = false;
    }
  }

  recent(): RecentLibrary[] {
    return recentLibraries(this.current.lib.path, this.recentFile);
  }

  /** Closes the library open now. */
  async close(): Promise<void> {
    this.detach();
    await this.current.close();
  }
}
