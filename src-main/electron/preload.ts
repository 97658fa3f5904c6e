/**
 * The preload exposes exactly the AppApi contract (plus event subscription) to the renderer, nothing else: no
 * ipcRenderer, no Node. Runs sandboxed with contextIsolation. The methods are the generic client proxy over the one
 * IPC channel (common/client.ts); the main process validates every call at its door.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { clientOf, type Reply } from '../common/client.ts';

const api: Record<string, unknown> = { ...clientOf(async (method, arg) => (await ipcRenderer.invoke('constellate:call', method, arg)) as Reply) };
api.onEvent = (listener: (e: unknown) => void) => {
  const h = (_e: IpcRendererEvent, payload: unknown) => listener(payload);
  ipcRenderer.on('constellate:event', h);
  return () => { ipcRenderer.removeListener('constellate:event', h); };
};

contextBridge.exposeInMainWorld('constellate', Object.freeze(api));
