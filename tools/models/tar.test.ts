import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { extractTgz } from './tar.ts';

function header(name: string, size: number, type: string): Buffer {
  const h = Buffer.alloc(512);
  h.write(name.slice(0, 100), 0);
  h.write('0000644\0', 100);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write(type, 156);
  h.write('ustar\0' + '00', 257);
  h.fill(' ', 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}
const pad = (b: Buffer) => Buffer.concat([b, Buffer.alloc((512 - (b.length % 512)) % 512)]);
function entry(name: string, data: Buffer, type = '0'): Buffer {
  return Buffer.concat([header(name, data.length, type), pad(data)]);
}

describe('extractTgz', () => {
  const long = 'package/' + 'deep/'.repeat(30) + 'model.onnx';
  const tgz = gzipSync(
    Buffer.concat([
      entry('package/package.json', Buffer.from('{"name":"x"}')),
      entry('././@LongLink', Buffer.from(long + '\0'), 'L'),
      entry(long.slice(0, 100), Buffer.from('LONG')),
      entry('PaxHeader', Buffer.from(`30 path=package/pax/named.bin\n`), 'x'),
      entry('short', Buffer.alloc(700, 7)),
      entry('package/dir/', Buffer.alloc(0), '5'),
      Buffer.alloc(1024),
    ]),
  );

  it('reads only wanted regular files, with GNU and pax long names', () => {
    const all = extractTgz(tgz, () => true);
    expect([...all.keys()]).toEqual(['package/package.json', long, 'package/pax/named.bin']);
    expect(all.get(long)!.toString()).toBe('LONG');
    expect(all.get('package/pax/named.bin')!.equals(Buffer.alloc(700, 7))).toBe(true);
    expect([...extractTgz(tgz, (p) => p.endsWith('.json')).keys()]).toEqual(['package/package.json']);
  });

  it('rejects truncated archives', () => {
    const raw = Buffer.concat([header('package/big', 4096, '0'), Buffer.alloc(100)]);
    expect(() => extractTgz(gzipSync(raw), () => true)).toThrow(/truncated/);
    expect(() => extractTgz(Buffer.from('not gzip'), () => true)).toThrow();
  });
});
