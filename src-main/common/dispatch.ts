/**
 * The one door of the AppApi: every transport (server dispatch, IPC dispatch, direct calls through `checkedApi`)
 * validates a call's options object here, once, against common/schemas.ts, and only then calls the implementation.
 * A bad argument is refused with BAD_ARGUMENT naming the parameter. Pure: no Node, no Electron.
 */
import { API_METHODS, isApiMethod, type AppApi, type ApiArgs, type ApiMethod } from './api.ts';
import type { Reply } from './client.ts';
import { AppError, toPayload } from './errors.ts';
import { checkArgs, checkResult } from './schemas.ts';

/** The call's options object, validated (BAD_ARGUMENT naming the parameter otherwise). */
export function parseArgs<M extends ApiMethod>(method: M, arg: unknown): ApiArgs<M> {
  const r = checkArgs(method, arg);
  if (!r.ok) throw new AppError('BAD_ARGUMENT', r.message);
  return r.value;
}

export interface DoorOptions {
  /** validate every result against its schema too (development and test builds: core/config.ts checkResults) */
  checkResults?: boolean;
}

/**
 * Calls `method` on `impl` with one options object from a transport: checks the name, then the argument; with
 * `checkResults`, the result too (a result that does not match its schema is INTERNAL, naming the field).
 */
export async function dispatch(impl: AppApi, method: unknown, arg: unknown, opts: DoorOptions = {}): Promise<unknown> {
  if (typeof method !== 'string' || !isApiMethod(method)) throw new AppError('NOT_FOUND', `no API method ${JSON.stringify(method)}`);
  const value = parseArgs(method, arg);
  const fn = impl[method] as (o: unknown) => Promise<unknown>;
  const result = await fn.call(impl, value);
  if (opts.checkResults) {
    const bad = checkResult(method, result);
    if (bad) throw new AppError('INTERNAL', `the result of ${method} does not match its schema: ${bad}`);
  }
  return result;
}

/** The AppApi of `impl` with every call validated at the door (direct calls: CLI, tests, benches). */
export function checkedApi(impl: AppApi, opts: DoorOptions = {}): AppApi {
  const out = {} as Record<ApiMethod, (o: unknown) => Promise<unknown>>;
  for (const m of API_METHODS) out[m] = (o: unknown) => dispatch(impl, m, o, opts);
  return out as unknown as AppApi;
}

/** A transport's answer to one call (IPC): the result, or the error as `{code, message}`; never throws. */
export async function reply(impl: AppApi | null | undefined, method: unknown, arg: unknown, opts: DoorOptions = {}): Promise<Reply> {
  try {
    if (!impl) throw new AppError('CONFLICT', 'no library is open');
    return { ok: true, result: await dispatch(impl, method, arg, opts) };
  } catch (e) {
    return { ok: false, error: toPayload(e) };
  }
}
