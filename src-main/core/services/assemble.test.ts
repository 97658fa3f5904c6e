import { describe, expect, it } from 'vitest';
import { API_METHODS } from '../../common/api.ts';
import { assembleApi } from './assemble.ts';

/** assembleApi without its compile-time check, for the run-time one */
const loose = assembleApi as unknown as (parts: readonly object[]) => Record<string, () => Promise<string>>;

/** Parts that provide every API method once, as plain objects (the shape check only: nothing is called). */
function parts() {
  const half = Math.floor(API_METHODS.length / 2);
  const mk = (names: readonly string[]) => Object.fromEntries(names.map((m) => [m, async () => m]));
  return [mk(API_METHODS.slice(0, half)), mk(API_METHODS.slice(half))] as const;
}

describe('assembleApi', () => {
  it('binds every API method to the one part that provides it', async () => {
    const [a, b] = parts();
    const api = loose([a, b]);
    for (const m of API_METHODS) expect(await api[m]()).toBe(m);
  });

  it('refuses a method provided twice or not at all (at run time; the types refuse it when compiling)', () => {
    const [a, b] = parts();
    const dup = { ...b, [API_METHODS[0]]: async () => 'again' };
    expect(() => loose([a, dup])).toThrow(/API method getInfo is provided by 2 services/);
    const { [API_METHODS[API_METHODS.length - 1]]: _gone, ...short } = b;
    expect(() => loose([a, short])).toThrow(/provided by 0 services/);
  });

  it('does not compile with a duplicated, missing or mismatched method', () => {
    class One { async getInfo(): Promise<never> { throw new Error(); } }
    class Two { async getInfo(): Promise<never> { throw new Error(); } }
    class Wrong { async getInfo(_o: { nope: string }): Promise<number> { return 1; } }
    // each line below is a compile error (tsc fails on an unused @ts-expect-error): only the runtime throws are run
    // @ts-expect-error getInfo twice, and every other method missing
    expect(() => assembleApi([new One(), new Two()])).toThrow();
    // @ts-expect-error every method but getInfo missing
    expect(() => assembleApi([new One()])).toThrow();
    // @ts-expect-error getInfo's signature does not match the contract
    expect(() => assembleApi([new Wrong()])).toThrow();
  });
});
