/**
 * File and folder names that are not valid UTF-8 (a Latin-1 "café" is the bytes 63 61 66 e9; Linux allows any bytes
 * but '/' and NUL). Node's string paths decode such a name to U+FFFD, and the decoded name names no file ("no longer
 * exists"). Here names travel as bytes: a name read from the disk is kept as a lossless string, each byte of an
 * invalid sequence written as one private-use code point U+F780..U+F7FF (U+F700 + the byte; a real name's own
 * U+F780..U+F7FF characters are escaped the same way, byte by byte, so the mapping is one to one), and `fsPath` turns
 * such a string back into the exact bytes for every file system call. A valid UTF-8 name is its plain string.
 * Stored paths, the wire and exports carry the string; the file system sees the original bytes.
 */
const LO = 0xf780, HI = 0xf7ff, BASE = 0xf700;
const ESCAPED = /[\uF780-\uF7FF]/;

/** Length of the valid UTF-8 sequence at b[i] (1-4), or 0 when the bytes there are not one. */
function seqLen(b: Uint8Array, i: number): number {
  const c = b[i];
  if (c < 0x80) return 1;
  const cont = (k: number) => i + k < b.length && (b[i + k] & 0xc0) === 0x80;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c >= 0xe0 && c <= 0xef) {
    if (!cont(1) || !cont(2)) return 0;
    const c1 = b[i + 1];
    if (c === 0xe0 && c1 < 0xa0) return 0; // overlong
    if (c === 0xed && c1 >= 0xa0) return 0; // surrogates
    return 3;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    const c1 = b[i + 1];
    if (c === 0xf0 && c1 < 0x90) return 0;
    if (c === 0xf4 && c1 >= 0x90) return 0;
    return 4;
  }
  return 0;
}

/** A name (or path) read as bytes, as a lossless string (the plain string when it is valid UTF-8 without escapes). */
export function nameFromBytes(bytes: Uint8Array): string {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const plain = buf.toString('utf8');
  if (!plain.includes('\uFFFD') && !ESCAPED.test(plain)) return plain;
  let out = '';
  for (let i = 0; i < buf.length;) {
    const n = seqLen(buf, i);
    if (n === 0) { out += String.fromCharCode(BASE + buf[i]); i++; continue; }
    const ch = buf.toString('utf8', i, i + n);
    const cp = ch.codePointAt(0)!;
    if ((cp >= LO && cp <= HI) || (cp === 0xfffd && n === 3 && buf[i] === 0xef)) {
      if (cp === 0xfffd) out += ch; // a real U+FFFD in the name stays itself
      else for (let k = 0; k < n; k++) out += String.fromCharCode(BASE + buf[i + k]);
    } else out += ch;
    i += n;
  }
  return out;
}

/** The bytes a lossless name string stands for. */
export function bytesOfName(s: string): Buffer {
  if (!ESCAPED.test(s)) return Buffer.from(s, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (cp >= LO && cp <= HI) {
      if (run) { parts.push(Buffer.from(run, 'utf8')); run = ''; }
      parts.push(Buffer.of(cp - BASE));
    } else run += ch;
  }
  if (run) parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** What to hand the file system for a stored path: the string itself, or its exact bytes when it carries escapes. */
export function fsPath(p: string): string | Buffer {
  return ESCAPED.test(p) ? bytesOfName(p) : p;
}

/** True when a path string stands for bytes that are not valid UTF-8. */
export function hasByteEscapes(p: string): boolean {
  return ESCAPED.test(p);
}
