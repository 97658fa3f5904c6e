/** Reads DateTimeOriginal (or DateTime) from a raw EXIF block as given by sharp's metadata().exif. */
export function exifTakenAt(exif: Buffer | undefined): string | null {
  if (!exif || exif.length < 14) return null;
  try {
    let base = 0;
    if (exif.subarray(0, 6).toString('latin1') === 'Exif\0\0') base = 6;
    const order = exif.subarray(base, base + 2).toString('latin1');
    const le = order === 'II';
    if (!le && order !== 'MM') return null;
    const u16 = (o: number) => (le ? exif.readUInt16LE(base + o) : exif.readUInt16BE(base + o));
    const u32 = (o: number) => (le ? exif.readUInt32LE(base + o) : exif.readUInt32BE(base + o));
    const readIfd = (off: number): Map<number, { type: number; count: number; valueOff: number }> => {
      const out = new Map<number, { type: number; count: number; valueOff: number }>();
      if (base + off + 2 > exif.length) return out;
      const n = u16(off);
      for (let i = 0; i < n && base + off + 2 + i * 12 + 12 <= exif.length; i++) {
        const e = off + 2 + i * 12;
        out.set(u16(e), { type: u16(e + 2), count: u32(e + 4), valueOff: e + 8 });
      }
      return out;
    };
    const ascii = (ent: { count: number; valueOff: number }): string | null => {
      const off = ent.count > 4 ? u32(ent.valueOff) : ent.valueOff;
      if (base + off + ent.count > exif.length) return null;
      return exif.subarray(base + off, base + off + ent.count).toString('latin1').replace(/\0.*$/s, '');
    };
    const ifd0 = readIfd(u32(4));
    let value: string | null = null;
    const exifPtr = ifd0.get(0x8769);
    if (exifPtr) {
      const sub = readIfd(u32(exifPtr.valueOff));
      const dto = sub.get(0x9003) ?? sub.get(0x9004);
      if (dto) value = ascii(dto);
    }
    if (!value) { const dt = ifd0.get(0x0132); if (dt) value = ascii(dt); }
    if (!value) return null;
    const m = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value.trim());
    if (!m || m[1] === '0000') return null;
    return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}`;
  } catch {
    return null;
  }
}
