/**
 * The frozen public surface: every AppApi method with its argument and result schema, every job kind's schema, every
 * CLI command with its flags, the CLI's `--json` keys and the export columns (CSV and Parquet/Arrow), generated from
 * the code (public-surface.ts) and held to public-surface.snapshot.json. A change to the surface fails here until the
 * snapshot is updated on purpose, in the same commit: `npx vitest run src-main/reliability/public-surface.test.ts -u`.
 */
import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { apiSurface, cliJsonSurface, cliSurface, describeSchema, exportSurface, jobSurface } from './public-surface.ts';

describe('public surface', () => {
  it('is what the snapshot says (update it deliberately with -u when the surface changes)', async () => {
    const surface = { api: apiSurface(), jobs: jobSurface(), cli: cliSurface(), cliJson: cliJsonSurface(), exports: exportSurface() };
    // the generator sees every part (an empty part would freeze nothing)
    expect(Object.keys(surface.api).length).toBeGreaterThan(70);
    expect(Object.keys(surface.jobs).length).toBeGreaterThan(10);
    expect(Object.keys(surface.cli.commands).length).toBeGreaterThan(25);
    expect(Object.keys(surface.cliJson).sort()).toEqual(Object.keys(surface.cli.commands).sort());
    expect(Object.keys(surface.exports.columnar).length).toBeGreaterThanOrEqual(3);
    await expect(JSON.stringify(surface, null, 1) + '\n').toMatchFileSnapshot('./public-surface.snapshot.json');
  });

  it('a schema description changes with a renamed key, a new flag value, a dropped option or a tighter bound', () => {
    const base = v.strictObject({ a: v.pipe(v.number(), v.integer(), v.minValue(1)), b: v.optional(v.picklist(['x', 'y'])) });
    const d = (s: unknown) => JSON.stringify(describeSchema(s as never));
    expect(d(base)).toBe(d(v.strictObject({ a: v.pipe(v.number(), v.integer(), v.minValue(1)), b: v.optional(v.picklist(['x', 'y'])) })));
    for (const other of [
      v.strictObject({ A: v.pipe(v.number(), v.integer(), v.minValue(1)), b: v.optional(v.picklist(['x', 'y'])) }),
      v.strictObject({ a: v.pipe(v.number(), v.integer(), v.minValue(0)), b: v.optional(v.picklist(['x', 'y'])) }),
      v.strictObject({ a: v.pipe(v.number(), v.integer(), v.minValue(1)), b: v.optional(v.picklist(['x', 'y', 'z'])) }),
      v.strictObject({ a: v.pipe(v.number(), v.integer(), v.minValue(1)), b: v.picklist(['x', 'y']) }),
      v.object({ a: v.pipe(v.number(), v.integer(), v.minValue(1)), b: v.optional(v.picklist(['x', 'y'])) }),
      v.strictObject({ a: v.pipe(v.number(), v.integer(), v.minValue(1)) }),
    ]) expect(d(other)).not.toBe(d(base));
    // an unknown kind of schema is an error, never silently left out of the surface
    expect(() => describeSchema({ kind: 'schema', type: 'something_new' } as never)).toThrow(/something_new/);
  });
});
