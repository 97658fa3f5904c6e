/**
 * The preload exposes exactly the AppApi contract (plus event subscription) to the renderer, nothing else: no
 * ipcRenderer, no Node. Runs sandboxed with contextIsolation. Every method answers the door's reply object
 * ({ok: true, result} | {ok: false, error: {code, message}}) and never throws: Electron's contextBridge copies a thrown
 * error without its custom properties, so an error's code would arrive as nothing (INTERNAL) in the renderer. The
 * renderer's IPC client unwraps the reply with the one generic client proxy (common/client.ts); the main process
 * validates every call at its door.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHODS } from '../common/api.ts';
import type { Reply } from '../common/client.ts';
import { asErrorCode } from '../common/errors.ts';

/** Whatever the channel gave (or threw) as a plain reply object: only {ok, result} or {ok, error: {code, message}}. */
function asReply(r: unknown): Reply {
  const o = r as { ok?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown } } | null;
  if (o && o.ok === true) return { ok: true, result: o.result };
  if (o && o.ok === false) return { ok: false, error: { code: asErrorCode(o.error?.code), message: String(o.error?.message ?? 'the call failed') } };
  return { ok: false, error: { code: 'INTERNAL', message: 'the desktop bridge got no reply' } };
}

const api: Record<string, unknown> = {};
for (const m of API_METHODS) {
  api[m] = async (arg?: unknown): Promise<Reply> => {
    try {
      return asReply(await ipcRenderer.invoke('constellate:call', m, arg));
    } catch (e) {
      // the channel itself failed (an argument that cannot be cloned, the main process gone)
      const message = String((e as Error)?.message ?? e).replace(/^Error invoking remote method '[^']+': /, '');
      return { ok: false, error: { code: 'INTERNAL', message: `${m}: ${message}` } };
    }
  };
}
api.onEvent = (listener: (e: unknown) => void) => {
  const h = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
  ipcRenderer.on('constellate:event', h);
  return () => { ipcRenderer.removeListener('constellate:event', h); };
};

contextBridge.exposeInMainWorld('constellate', Object.freeze(api));
