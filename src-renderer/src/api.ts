/**
 * The renderer's AppClient: Electron IPC through the preload's `window.constellate` when present, else serve mode's
 * HTTP + WebSocket. Both speak the same AppApi contract; views never know which one they use.
 */
import { API_METHODS, type AppApi, type AppClient, type EventListener } from '@common/api.ts';
import { decodeMessage } from '@common/codec.ts';
import type { AppEvent } from '@common/types.ts';

export class ApiError extends Error {
  constructor(readonly code: string, message: string) { super(message); }
}

type Bridge = AppApi & { onEvent(l: (e: AppEvent) => void): () => void };

function ipcClient(bridge: Bridge): AppClient {
  const client = {} as Record<string, unknown>;
  for (const m of API_METHODS) {
    client[m] = async (...args: unknown[]) => {
      try {
        return await (bridge[m] as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (e) {
        const err = e as { code?: string; message: string };
        throw new ApiError(err.code ?? 'INTERNAL', err.message.replace(/^Error invoking remote method '[^']+': /, ''));
      }
    };
  }
  client.onEvent = (l: EventListener) => bridge.onEvent(l);
  client.thumbUrl = (key: string) => `constellate://app/thumb/${key}.jpg`;
  return client as unknown as AppClient;
}

function httpClient(): AppClient {
  const listeners = new Set<EventListener>();
  let ws: WebSocket | null = null;
  let retry = 500;
  const connect = () => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // relative to the page: serve mode keeps the app (and its session cookie) under the instance's path /s/<id>/
    const here = new URL('events', location.href);
    ws = new WebSocket(`${proto}//${here.host}${here.pathname}`);
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (m) => {
      const e = (m.data instanceof ArrayBuffer ? decodeMessage(new Uint8Array(m.data)) : JSON.parse(String(m.data))) as AppEvent;
      for (const l of listeners) l(e);
    };
    ws.onopen = () => { retry = 500; };
    ws.onclose = () => { setTimeout(connect, retry); retry = Math.min(retry * 2, 10_000); };
  };
  connect();
  const client = {} as Record<string, unknown>;
  for (const m of API_METHODS) {
    client[m] = async (...args: unknown[]) => {
      const res = await fetch(`api/${m}`, {
        method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-constellate-csrf': '1' }, body: JSON.stringify(args),
      });
      const type = res.headers.get('content-type') ?? '';
      if (type.startsWith('application/x-constellate')) return decodeMessage(new Uint8Array(await res.arrayBuffer()));
      const body = await res.json().catch(() => ({ error: { code: 'INTERNAL', message: `HTTP ${res.status}` } }));
      if (!res.ok || body.error) throw new ApiError(body.error?.code ?? 'INTERNAL', body.error?.message ?? `HTTP ${res.status}`);
      return body.result;
    };
  }
  client.onEvent = (l: EventListener) => { listeners.add(l); return () => listeners.delete(l); };
  client.thumbUrl = (key: string) => `thumb/${key}.jpg`;
  return client as unknown as AppClient;
}

const bridge = (globalThis as { constellate?: Bridge }).constellate;
export const api: AppClient = bridge ? ipcClient(bridge) : httpClient();
export const transport: 'ipc' | 'http' = bridge ? 'ipc' : 'http';
