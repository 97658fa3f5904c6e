/**
 * File and folder names that are safe on every OS (Windows, macOS, Linux, FAT/exFAT/NTFS/APFS/ext4), and unique
 * case-insensitively within a folder (so an export behaves the same on case-insensitive file systems).
 */
import { extname } from 'node:path';

const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])$/i;
/** bytes, not characters: most file systems limit a name to 255 bytes; keep room for " (12345)" and a temp suffix */
export const MAX_NAME_BYTES = 120;

function truncateBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  let out = '';
  for (const ch of s) { // by code point, never splitting a surrogate pair
    if (Buffer.byteLength(out + ch) > max) break;
    out += ch;
  }
  return out;
}

/**
 * A name safe on every OS: no `<>:"/\|?*`, no control characters, no leading/trailing spaces, no trailing dots,
 * not a reserved Windows device name (CON, NUL, COM1, ... with or without an extension), not `.`/`..`, at most
 * MAX_NAME_BYTES bytes (UTF-8). Unicode is NFC-normalized. Returns `fallback` when nothing usable is left.
 */
export function safeName(raw: string, fallback = 'unnamed', maxBytes = MAX_NAME_BYTES): string {
  let s = String(raw ?? '').normalize('NFC');
  // eslint-disable-next-line no-control-regex
  s = s.replace(/[<>:"/\\|?*\u0000-\u001f\u007f-\u009f]/g, '_');
  s = s.replace(/[\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/g, ''); // invisible / bidi controls
  s = s.trim().replace(/^\.+/, (m) => '_'.repeat(m.length));
  s = truncateBytes(s, maxBytes).replace(/[. ]+$/, '');
  if (!s) s = fallback;
  const stem = s.split('.')[0].trim();
  if (RESERVED.test(stem)) s = `_${s}`;
  return s;
}

/** A safe file name keeping a safe, lower-cased extension (the stem is sanitized separately). */
export function safeFileName(raw: string, fallbackStem = 'file'): string {
  const ext = extname(raw);
  const cleanExt = /^\.[A-Za-z0-9]{1,8}$/.test(ext) ? ext.toLowerCase() : '';
  const stem = safeName(cleanExt ? raw.slice(0, -ext.length) : raw, fallbackStem, MAX_NAME_BYTES - cleanExt.length);
  return stem + cleanExt;
}

/**
 * Picks names not yet taken in one folder, case-insensitively: `a.jpg`, then `a (2).jpg`, `a (3).jpg`, ...
 * `taken` starts with what is already on disk and grows with what this export adds.
 */
export class NameSet {
  private taken = new Set<string>();
  constructor(existing: Iterable<string> = []) {
    for (const n of existing) this.taken.add(key(n));
  }
  has(name: string): boolean { return this.taken.has(key(name)); }
  add(name: string): void { this.taken.add(key(name)); }
  /** the first free variant of `name` (not yet reserved: call add once it is used) */
  free(name: string): string {
    if (!this.has(name)) return name;
    const ext = extname(name);
    const stem = ext && ext !== name ? name.slice(0, -ext.length) : name;
    const e = ext && ext !== name ? ext : '';
    for (let i = 2; ; i++) {
      const c = `${stem} (${i})${e}`;
      if (!this.has(c)) return c;
    }
  }
  /** free(name), reserved */
  take(name: string): string {
    const n = this.free(name);
    this.add(n);
    return n;
  }
}

function key(n: string): string {
  return n.normalize('NFC').toLowerCase();
}
