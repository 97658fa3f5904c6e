/**
 * The client stubs of every transport, generated from the method list: one generic proxy that sends a method's name
 * and its one options object through `call` and turns the reply into the result or an AppError (the one error type,
 * with its ErrorCode). The preload (IPC), the renderer's IPC client and its HTTP client are each this proxy over their
 * own `call`. Pure: no Node, no Electron; no schemas either (the receiving door validates).
 */
import { API_METHODS, type AppApi, type ApiMethod } from './api.ts';
import { AppError, asErrorCode, type ErrorPayload } from './errors.ts';

/** What a transport's door answers for one call. */
export type Reply = { ok: true; result: unknown } | { ok: false; error: ErrorPayload };

/** Every AppApi method as `(options) => call(name, options)`, the reply unwrapped (errors thrown as AppError). */
export function clientOf(call: (method: ApiMethod, arg: unknown) => Promise<Reply>): AppApi {
  const client = {} as Record<ApiMethod, (arg?: unknown) => Promise<unknown>>;
  for (const m of API_METHODS) {
    client[m] = async (arg?: unknown) => {
      const r = await call(m, arg);
      if (r.ok) return r.result;
      throw new AppError(asErrorCode(r.error?.code), String(r.error?.message ?? `${m} failed`));
    };
  }
  return client as unknown as AppApi;
}
