/**
 * The one AppApi from its domain services, checked at compile time: every API method is provided by exactly one
 * part (a method two parts provide, or one no part provides, is a type error naming it), and again when assembled.
 */
import { API_METHODS, type ApiMethod, type AppApi } from '../../common/api.ts';

/** The API methods a part provides. */
export type PartKeys<P> = Extract<keyof P, ApiMethod>;

/** The API methods any of the parts provides (per part: `keyof` a union would keep only the keys all share). */
export type AllKeys<Ps extends readonly unknown[]> = { [I in keyof Ps]: PartKeys<Ps[I]> }[number];

/** API methods provided by more than one of the parts. */
export type Duplicated<Ps extends readonly unknown[]> = Ps extends readonly [infer H, ...infer R]
  ? Extract<PartKeys<H>, AllKeys<R>> | Duplicated<R>
  : never;

/** API methods no part provides. */
export type Missing<Ps extends readonly unknown[]> = Exclude<ApiMethod, AllKeys<Ps>>;

/** Parts whose methods do not match the AppApi's signatures of the same names. */
export type Mismatched<Ps extends readonly unknown[]> = {
  [I in keyof Ps]: Ps[I] extends Pick<AppApi, PartKeys<Ps[I]>> ? never : PartKeys<Ps[I]>
}[number];

/** Nothing when the parts provide each API method exactly once with its signature; else an error naming the methods. */
export type ExactlyOnce<Ps extends readonly unknown[]> = [Duplicated<Ps> | Missing<Ps> | Mismatched<Ps>] extends [never] ? []
  : [error: { duplicated: Duplicated<Ps>; missing: Missing<Ps>; mismatched: Mismatched<Ps> }];

/**
 * The AppApi whose every method is bound to the one part that provides it. The parts must provide each API method
 * exactly once, with the contract's signature: otherwise the call does not compile (it then asks for a second
 * argument whose type names the duplicated, missing or mismatched methods); checked again at run time.
 */
export function assembleApi<const Ps extends readonly object[]>(parts: Ps, ..._exactlyOnce: ExactlyOnce<Ps>): AppApi {
  const api = {} as Record<ApiMethod, (o: unknown) => Promise<unknown>>;
  for (const m of API_METHODS) {
    const owners = parts.filter((p) => typeof (p as Record<string, unknown>)[m] === 'function');
    if (owners.length !== 1) throw new Error(`API method ${m} is provided by ${owners.length} services (expected exactly one)`);
    const owner = owners[0] as Record<string, (o: unknown) => Promise<unknown>>;
    api[m] = owner[m].bind(owner);
  }
  return api as unknown as AppApi;
}
