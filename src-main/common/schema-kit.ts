/**
 * The building blocks of the contract's valibot schemas (common/schemas.ts, common/cluster-contract.ts) and the enums
 * more than one schema uses. The project's wording for a bad parameter is `expected WHAT, got VALUE`.
 * Pure: no Node, no Electron.
 */
import * as v from 'valibot';

/** `expected WHAT, got VALUE`: the project's wording for a bad parameter */
export const m = (what: string) => (issue: v.BaseIssue<unknown>) => `expected ${what}, got ${issue.received}`;
export const num = () => v.pipe(v.number(m('a number')), v.finite(m('a finite number')));
export const int = (min = 0) => v.pipe(v.number(m(`an integer >= ${min}`)), v.integer(m(`an integer >= ${min}`)), v.minValue(min, m(`an integer >= ${min}`)));
export const id = () => int(1);
export const text = () => v.pipe(v.string(m('a non-empty string')), v.minLength(1, m('a non-empty string')));
export const range = (lo: number, hi: number) => v.pipe(num(), v.minValue(lo, m(`a number in [${lo}, ${hi}]`)), v.maxValue(hi, m(`a number in [${lo}, ${hi}]`)));
export const opt = v.optional;
export const picklist = <const T extends readonly string[]>(xs: T) => v.picklist(xs, m(`one of ${xs.join(', ')}`));

/** What an item is: a photo or a face. */
export const ITEM_KINDS = ['photo', 'face'] as const;
export const itemKindSchema = picklist(ITEM_KINDS);
/** Distances of clustering and maps. */
export const METRICS = ['cosine', 'euclidean'] as const;
