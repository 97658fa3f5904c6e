/**
 * A stand-in for Electron's contextBridge that copies values the way it does (Electron's runtime cannot be downloaded
 * here, so this is what the desktop bridge's tests cross). From Electron's contextBridge documentation and its
 * PassValueToOtherContext: functions and promises are proxied (their arguments, results and resolutions copied in
 * turn); plain objects and arrays are copied key by key with their prototype dropped; an Error is rebuilt in the other
 * world from its message only (its name beyond "Error", its `code` and any other custom property are lost); every
 * other value goes through the structured clone algorithm (v8's serializer: typed arrays copied, never shared;
 * symbols, WeakMaps and the like refused with a DataCloneError). Nothing crosses by reference.
 */
import { types } from 'node:util';
import { deserialize, serialize } from 'node:v8';

function copyError(e: unknown): Error {
  const message = types.isNativeError(e) || e instanceof Error ? (e as Error).message : String(e);
  return new Error(message);
}

/** `value` as the other world receives it. */
export function bridgeCopy(value: unknown, seen = new Map<object, unknown>()): unknown {
  if (typeof value === 'function') {
    const fn = value as (...a: unknown[]) => unknown;
    return (...args: unknown[]) => {
      const inner = args.map((a) => bridgeCopy(a));
      let out: unknown;
      try { out = fn(...inner); } catch (e) { throw copyError(e); }
      return bridgeCopy(out);
    };
  }
  if (types.isPromise(value)) {
    return new Promise((ok, fail) => {
      (value as Promise<unknown>).then((v) => { try { ok(bridgeCopy(v)); } catch (e) { fail(copyError(e)); } }, (e) => fail(copyError(e)));
    });
  }
  if (types.isNativeError(value) || value instanceof Error) return copyError(value);
  // (the checks work across realms: the preload runs in its own context, as in Electron)
  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value) && !types.isAnyArrayBuffer(value)
    && !types.isMap(value) && !types.isSet(value) && !types.isDate(value) && !types.isRegExp(value)) {
    if (seen.has(value)) return seen.get(value);
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      seen.set(value, out);
      for (const v of value) out.push(bridgeCopy(v, seen));
      return out;
    }
    const out: Record<string, unknown> = {};
    seen.set(value, out);
    for (const k of Object.keys(value)) out[k] = bridgeCopy((value as Record<string, unknown>)[k], seen);
    return out;
  }
  if (typeof value === 'symbol') throw new Error('An object could not be cloned.');
  return deserialize(serialize(value));
}

/** A contextBridge whose exposeInMainWorld hands the copy to `mainWorld` (the page's `window`). */
export function copyingContextBridge(mainWorld: Record<string, unknown>) {
  return {
    exposeInMainWorld(key: string, api: unknown): void {
      if (key in mainWorld) throw new Error(`Cannot bind an API on top of an existing property on the window object: ${key}`);
      const copy = bridgeCopy(api);
      mainWorld[key] = copy !== null && typeof copy === 'object' ? Object.freeze(copy) : copy;
    },
  };
}
