import { describe, expect, it } from 'vitest';
import { boxIoU, matchFaces } from './face-match.ts';

const v = (...x: number[]) => Float32Array.from(x);

describe('matching re-detected faces', () => {
  it('keeps faces whose boxes overlap, adds new ones, drops gone ones', () => {
    const old = [{ box: { x: 0, y: 0, w: 10, h: 10 }, vec: v(1, 0) }, { box: { x: 50, y: 50, w: 10, h: 10 }, vec: v(0, 1) }];
    const found = [{ box: { x: 100, y: 0, w: 10, h: 10 }, vec: v(-1, 0) }, { box: { x: 1, y: 1, w: 10, h: 10 }, vec: v(0.9, 0.1) }];
    expect(Array.from(matchFaces(old, found))).toEqual([-1, 0]);
    expect(boxIoU(old[0].box, found[1].box)).toBeGreaterThan(0.6);
  });

  it('matches by embedding when every box moved (a resized photo), one to one', () => {
    const old = [{ box: { x: 0, y: 0, w: 20, h: 20 }, vec: v(1, 0) }, { box: { x: 40, y: 0, w: 20, h: 20 }, vec: v(0, 1) }];
    const found = [{ box: { x: 20, y: 0, w: 10, h: 10 }, vec: v(0.1, 1) }, { box: { x: 0, y: 0, w: 10, h: 10 }, vec: v(1, 0.05) }];
    expect(Array.from(matchFaces(old, found))).toEqual([1, 0]);
    // two new faces never take the same old one
    const twice = matchFaces([old[0]], [{ box: old[0].box, vec: v(1, 0) }, { box: old[0].box, vec: v(1, 0) }]);
    expect(Array.from(twice).sort()).toEqual([-1, 0]);
  });

  it('a box at the same place with another person in it is a new face', () => {
    const old = [{ box: { x: 0, y: 0, w: 10, h: 10 }, vec: v(1, 0) }];
    expect(Array.from(matchFaces(old, [{ box: { x: 0, y: 0, w: 10, h: 10 }, vec: v(0, 1) }]))).toEqual([-1]);
    expect(Array.from(matchFaces([{ box: old[0].box, vec: null }], [{ box: old[0].box, vec: v(0, 1) }]))).toEqual([0]);
  });
});
