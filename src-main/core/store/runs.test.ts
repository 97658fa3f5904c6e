import { describe, expect, it } from 'vitest';
import { RUN_RECORD_VERSION, parseRunRecord, serializeRunRecord } from './runs.ts';

describe('the run record', () => {
  it('is written with its version and read back as it was', () => {
    const json = serializeRunRecord({ algo: 'kmeans', name: 'flowers', loss: [0.5, 0.25] });
    expect(JSON.parse(json)).toEqual({ algo: 'kmeans', name: 'flowers', loss: [0.5, 0.25], version: RUN_RECORD_VERSION });
    expect(parseRunRecord(json)).toEqual({ algo: 'kmeans', name: 'flowers', loss: [0.5, 0.25], version: RUN_RECORD_VERSION });
  });

  it('reads a record written before it had a version', () => {
    expect(parseRunRecord('{"algo":"hdbscan"}')).toEqual({ algo: 'hdbscan' });
  });

  it('refuses a record that is not an object, or of a newer version, naming the run', () => {
    expect(() => parseRunRecord('[1,2]', 7)).toThrow(expect.objectContaining({ code: 'LIBRARY_CORRUPT', message: expect.stringMatching(/^run 7:/) }));
    expect(() => parseRunRecord('null', 7)).toThrow(expect.objectContaining({ code: 'LIBRARY_CORRUPT' }));
    expect(() => parseRunRecord(JSON.stringify({ version: RUN_RECORD_VERSION + 1 }), 3)).toThrow(expect.objectContaining({ code: 'LIBRARY_TOO_NEW', message: expect.stringMatching(/^run 3:/) }));
  });
});
