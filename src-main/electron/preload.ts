/**
 * The preload exposes exactly the AppApi contract (plus event subscription) to the renderer, nothing else: no
 * ipcRenderer, no Node. Runs sandboxed with contextIsolation.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { API_METHODS } from '../common/api.ts';

type Reply = { ok: true; result: unknown } | { ok: false; error: { code: string; message: string } };

const api: Record<string, unknown> = {};
for (const method of API_METHODS) {
  api[method] = async (...args: unknown[]) => {
    const reply = (await ipcRenderer.invoke('constellate:call', method, args)) as Reply;
    if (reply.ok) return reply.result;
    const err = new Error(reply.error.message) as Error & { code: string };
    err.code = reply.error.code;
    throw err;
  };
}
api.onEvent = (listener: (e: unknown) => void) => {
  const h = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
  ipcRenderer.on('constellate:event', h);
  return () => { ipcRenderer.removeListener('constellate:event', h); };
};

contextBridge.exposeInMainWorld('constellate', Object.freeze(api));
