import { describe, expect, it } from 'vitest';
import { assignToGroups } from './assign.ts';

const d = 4;
const unit = (v: number[]) => { const s = Math.hypot(...v); return v.map((x) => x / s); };

describe('assignToGroups agree', () => {
  // group 0: two members along e0 and e1 (a person seen twice); group 1: one member along e3
  const prototypes = Float32Array.from([...unit([1, 0, 0, 0]), ...unit([0.8, 0.6, 0, 0]), ...unit([0, 0, 0, 1])]);
  const protoGroup = Int32Array.from([0, 0, 1]);
  const centroids = Float32Array.from([...unit([0.9, 0.3, 0, 0]), ...unit([0, 0, 0, 1])]);
  const G = { g: 2, centroids, prototypes, protoGroup };
  // a chance match: close to one member of group 0 only (cos 0.6 to e0, about 0.48 to the other)
  const chance = Float32Array.from(unit([0.6, 0, 0.8, 0]));
  // a true match: close to both members of group 0
  const both = Float32Array.from(unit([0.95, 0.3, 0.1, 0]));
  // near the single member of group 1
  const single = Float32Array.from(unit([0, 0, 0.3, 0.95]));

  it('with agree 1 the nearest prototype decides: the chance match joins', async () => {
    const r = await assignToGroups(Float32Array.from([...chance, ...both, ...single]), 3, d, G, { threshold: 0.55, margin: 0.05 });
    expect(Array.from(r.group)).toEqual([0, 0, 1]);
  });

  it('with agree 2 the second member must reach the threshold too; a one-member group needs only its member', async () => {
    const r = await assignToGroups(Float32Array.from([...chance, ...both, ...single]), 3, d, G, { threshold: 0.55, margin: 0.05, agree: 2 });
    expect(Array.from(r.group)).toEqual([-1, 0, 1]);
    expect(r.reason[0]).toBe(1);
    expect(r.best[0]).toBeCloseTo(0.48, 2); // its second-best prototype of group 0
  });

  it('refuses agree above 8', async () => {
    await expect(assignToGroups(both, 1, d, G, { agree: 9 })).rejects.toThrow(/agree/);
  });
});
