import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, hasBinary } from './codec.ts';

describe('binary message codec', () => {
  it('round-trips JSON with typed arrays as raw bytes', () => {
    const xy = new Float32Array([1.5, -2, 3.25, 4]);
    const ids = new Int32Array([7, 8]);
    const v = { a: 1, s: 'x', nested: { xy, list: [ids, null] } };
    const bytes = encodeMessage(v);
    // the floats are in the message as bytes, not as text
    expect(new TextDecoder().decode(bytes).includes('3.25')).toBe(false);
    const back = decodeMessage(bytes) as typeof v;
    expect(back.a).toBe(1);
    expect(back.nested.xy).toBeInstanceOf(Float32Array);
    expect(Array.from(back.nested.xy)).toEqual(Array.from(xy));
    expect(Array.from(back.nested.list[0] as Int32Array)).toEqual([7, 8]);
    expect(hasBinary(v)).toBe(true);
    expect(hasBinary({ a: [1, 2] })).toBe(false);
  });
  it('rejects garbage', () => {
    expect(() => decodeMessage(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]))).toThrow(/not a Constellate message/);
  });
});
