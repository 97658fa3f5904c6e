/**
 * The renderer's AppClient: Electron IPC through the preload's `window.constellate` when present, else serve mode's
 * HTTP + WebSocket. Both are the one generic client proxy (common/client.ts) over their transport's `call`; views
 * never know which one they use. Errors are AppError with the contract's ErrorCode.
 */
import { API_METHODS, type AppClient, type EventListener } from '@common/api.ts';
import { clientOf, type Reply } from '@common/client.ts';
import { decodeMessage } from '@common/codec.ts';
import { previewRoute, thumbRoute } from '@common/thumbs.ts';
import type { AppEvent } from '@common/jobs.ts';
import { reactive } from 'vue';

/**
 * The link to the core: 'ok', 'lost' (the server is gone: the UI keeps the last data and says "reconnecting…"),
 * or 'token' (a server is back but this page's session is not valid there: it restarted and needs its token).
 */
export const connection = reactive({
  state: 'ok' as 'ok' | 'lost' | 'token',
  since: 0,
  /** set by the store: reload what is on screen after a reconnect (events may have been missed) */
  onReconnect: null as null | (() => void),
});
function lost(): void {
  if (connection.state === 'ok') { connection.state = 'lost'; connection.since = Date.now(); }
}
function back(): void {
  if (connection.state === 'ok') return;
  connection.state = 'ok';
  connection.onReconnect?.();
}

/**
 * What the preload exposes: every AppApi method answering the door's reply object (it never throws: Electron's
 * contextBridge would copy the error without its code), plus onEvent.
 */
type Bridge = Record<(typeof API_METHODS)[number], (o?: unknown) => Promise<Reply>> & { onEvent(l: (e: AppEvent) => void): () => void };

function ipcClient(bridge: Bridge): AppClient {
  const call = async (m: (typeof API_METHODS)[number], arg: unknown): Promise<Reply> => {
    try {
      const r = await bridge[m](arg);
      if (r && typeof r === 'object' && 'ok' in r) return r;
      return { ok: false, error: { code: 'INTERNAL', message: `${m}: the desktop bridge gave no reply` } };
    } catch (e) {
      // an older preload that throws: the code did not survive the bridge
      return { ok: false, error: { code: 'INTERNAL', message: String((e as Error)?.message ?? e).replace(/^Error invoking remote method '[^']+': /, '') } };
    }
  };
  return Object.assign(clientOf(call), {
    onEvent: (l: EventListener) => bridge.onEvent(l),
    thumbUrl: (key: string) => `constellate://app/${thumbRoute(key)}`,
    previewUrl: (hash: string) => `constellate://app/${previewRoute(hash)}`,
  });
}

function httpClient(): AppClient {
  const listeners = new Set<EventListener>();
  let retry = 500;
  const connect = () => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    // relative to the page: serve mode keeps the app (and its session cookie) under the instance's path /s/<id>/
    const here = new URL('events', location.href);
    const ws = new WebSocket(`${proto}//${here.host}${here.pathname}`);
    ws.binaryType = 'arraybuffer';
    ws.onmessage = (m) => {
      const e = (m.data instanceof ArrayBuffer ? decodeMessage(new Uint8Array(m.data)) : JSON.parse(String(m.data))) as AppEvent;
      for (const l of listeners) l(e);
    };
    ws.onopen = () => { retry = 500; back(); };
    ws.onclose = () => {
      lost();
      // a server that answers but refuses this session restarted with a new token
      void fetch('api/getInfo', { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-constellate-csrf': '1' }, body: '' })
        .then((r) => { if (r.status === 401 || r.status === 403) connection.state = 'token'; }, () => {});
      setTimeout(connect, retry); retry = Math.min(retry * 2, 5_000);
    };
  };
  connect();
  const call = async (m: string, arg: unknown): Promise<Reply> => {
    let res: Response;
    try {
      res = await fetch(`api/${m}`, {
        method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-constellate-csrf': '1' }, body: arg === undefined ? '' : JSON.stringify(arg),
      });
    } catch {
      lost();
      return { ok: false, error: { code: 'IO', message: 'the connection to the library is lost (reconnecting…)' } };
    }
    if (res.status === 401 || res.status === 403) {
      if (connection.state !== 'ok') connection.state = 'token';
    }
    const type = res.headers.get('content-type') ?? '';
    if (res.ok && type.startsWith('application/x-constellate')) return { ok: true, result: decodeMessage(new Uint8Array(await res.arrayBuffer())) };
    const body = await res.json().catch(() => ({ error: { code: 'INTERNAL', message: `HTTP ${res.status}` } }));
    if (!res.ok || body.error) return { ok: false, error: body.error ?? { code: 'INTERNAL', message: `HTTP ${res.status}` } };
    return { ok: true, result: body.result };
  };
  return Object.assign(clientOf(call), {
    onEvent: (l: EventListener) => { listeners.add(l); return () => { listeners.delete(l); }; },
    thumbUrl: (key: string) => thumbRoute(key),
    previewUrl: (hash: string) => previewRoute(hash),
  });
}

/**
 * While the connection is lost, a read answers with its last answer (the screen keeps the last data instead of
 * "No folders yet" / "Photos (0)"); writes fail with the reconnecting message. At most 300 answers are kept.
 */
function keepingLastData(c: AppClient): AppClient {
  const last = new Map<string, unknown>();
  const out = { ...c } as Record<string, unknown>;
  for (const m of API_METHODS) {
    if (!/^(get|list)/.test(m)) continue;
    const fn = c[m] as (o?: unknown) => Promise<unknown>;
    out[m] = async (o?: unknown) => {
      const key = `${m} ${JSON.stringify(o ?? null)}`;
      try {
        const r = await fn(o);
        last.delete(key); last.set(key, r);
        if (last.size > 300) last.delete(last.keys().next().value!);
        return r;
      } catch (e) {
        if (connection.state !== 'ok' && last.has(key)) return last.get(key);
        throw e;
      }
    };
  }
  return out as unknown as AppClient;
}

const bridge = (globalThis as { constellate?: Bridge }).constellate;
export const api: AppClient = keepingLastData(bridge ? ipcClient(bridge) : httpClient());
export const transport: 'ipc' | 'http' = bridge ? 'ipc' : 'http';
