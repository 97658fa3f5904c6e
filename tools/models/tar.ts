/** Tiny reader for npm's .tgz tarballs (ustar + pax/GNU long names). Reads only what is asked. */
import { gunzipSync } from 'node:zlib';

export interface TarEntry {
  path: string;
  data: Buffer;
}

function str(buf: Buffer, off: number, len: number): string {
  const s = buf.subarray(off, off + len);
  const z = s.indexOf(0);
  return (z >= 0 ? s.subarray(0, z) : s).toString('utf8');
}

/** Extract regular files whose path satisfies `want` from a gzip'd tar buffer. */
export function extractTgz(tgz: Buffer, want: (path: string) => boolean): Map<string, Buffer> {
  const tar = gunzipSync(tgz);
  const out = new Map<string, Buffer>();
  let off = 0;
  let longName: string | undefined;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const name = str(h, 0, 100);
    const size = parseInt(str(h, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156] || 48);
    const prefix = str(h, 345, 155);
    const dataOff = off + 512;
    if (!Number.isFinite(size) || dataOff + size > tar.length) throw new Error('truncated tar archive');
    const body = tar.subarray(dataOff, dataOff + size);
    off = dataOff + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = str(body, 0, body.length);
      continue;
    }
    if (type === 'x') {
      const m = /\d+ path=([^\n]*)\n/.exec(body.toString('utf8'));
      if (m) longName = m[1];
      continue;
    }
    if (type === 'g') continue;
    const full = longName ?? (prefix ? `${prefix}/${name}` : name);
    longName = undefined;
    if ((type === '0' || type === '\0') && want(full)) out.set(full, Buffer.from(body));
  }
  return out;
}
