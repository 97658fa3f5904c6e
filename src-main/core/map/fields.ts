/**
 * Colour a map by any field: for every item of a stored map, one code into a legend (with counts and a colour), and
 * for numeric fields the value itself, as typed arrays in the map's item order, so a renderer colours 100,000 points
 * from one answer. Categorical fields (run cluster, folder, imported label, curated) get colours from
 * common/palette.ts by adjacency of their centroids on this map; numeric fields (a score, the date) are binned into a
 * sequential ramp. Noise and "no value" are one grey legend entry flagged `noise`.
 */
import { AppError, badArg } from '../../common/errors.ts';
import { MAP_FIELDS } from '../../common/schema-kit.ts';
import { assignGroupColours, hex, NOISE_COLOUR, oklabToRgb } from '../../common/palette.ts';
import type { MapField, MapFieldName, MapFieldOptions } from '../../common/api.ts';
import { getRun } from '../store/runs.ts';
import type { Db } from '../store/db.ts';
import { dateByItem, faceScores, folderByItem, labelByItem, runClusterByItem, runClusterNames, runCuratedByItem, runSimByItem } from '../store/maps.ts';
import { getMapData } from './maps.ts';

const NONE = '(none)';

/** A sequential ramp (OKLab lightness and hue sweep, dark blue to yellow), `n` steps. */
function ramp(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const t = n === 1 ? 0.5 : i / (n - 1);
    const L = 0.35 + 0.55 * t, h = ((260 - 170 * t) * Math.PI) / 180, C = 0.12;
    return hex(oklabToRgb(L, C * Math.cos(h), C * Math.sin(h)));
  });
}

export function mapField(db: Db, o: MapFieldOptions): MapField {
  const map = getMapData(db, { id: o.mapId });
  const { ids, xy, kind } = map;
  const n = ids.length;
  const needRun = () => {
    if (o.runId === undefined) throw badArg('runId', `colouring by ${o.field} needs a run`);
    const run = getRun(db, o.runId);
    if (run.kind !== kind) throw badArg('runId', `run ${o.runId} groups ${run.kind}s, map ${o.mapId} shows ${kind}s`);
    return run;
  };
  let cat: Array<string | null> | null = null;
  let values: Float64Array | null = null;
  let labelOf: ((v: string) => string) | null = null;
  const noiseKeys = new Set<string>([NONE]);
  switch (o.field) {
    case 'cluster': {
      needRun();
      const a = runClusterByItem(db, o.runId);
      const names = runClusterNames(db, o.runId);
      cat = Array.from(ids, (id) => { const c = a.get(id); return c === undefined || c < 0 ? null : String(c); });
      labelOf = (v) => names.get(Number(v)) ?? `cluster ${v}`;
      break;
    }
    case 'curated': {
      needRun();
      const a = runCuratedByItem(db, o.runId);
      cat = Array.from(ids, (id) => { const c = a.get(id); return c === undefined ? null : c ? 'curated' : 'not curated'; });
      break;
    }
    case 'folder': {
      const f = folderByItem(db, kind);
      cat = Array.from(ids, (id) => f.get(id) ?? null);
      break;
    }
    case 'label': {
      const source = o.labelSource ?? 'import';
      const l = labelByItem(db, kind, source);
      cat = Array.from(ids, (id) => l.get(id) ?? null);
      break;
    }
    case 'score': {
      const which = o.score ?? 'similarity';
      let s: Map<number, number | null>;
      if (which === 'similarity') { needRun(); s = runSimByItem(db, o.runId); }
      else {
        if (kind !== 'face') throw badArg('score', `detection scores are of faces; map ${o.mapId} shows photos`);
        s = faceScores(db);
      }
      values = Float64Array.from(ids, (id) => s.get(id) ?? NaN);
      break;
    }
    case 'date': {
      const d = dateByItem(db, kind);
      values = Float64Array.from(ids, (id) => {
        const r = d.get(id);
        if (r === undefined) return NaN;
        const [taken, mtime] = JSON.parse(r) as [string | null, number];
        const t = taken ? Date.parse(`${taken.replace(/^(\d{4}):(\d\d):(\d\d)/, '$1-$2-$3')}Z`) : NaN;
        return Number.isFinite(t) ? t : mtime;
      });
      break;
    }
    default:
      throw badArg('field', `expected ${MAP_FIELDS.join(', ')}, got ${JSON.stringify(o.field)}`);
  }
  const codes = new Int32Array(n);
  const legend: MapField['legend'] = [];
  if (cat) {
    // legend: values by count (largest first), the "none" entry last
    const counts = new Map<string, number>();
    for (const v of cat) counts.set(v ?? NONE, (counts.get(v ?? NONE) ?? 0) + 1);
    const keys = [...counts.keys()].sort((a, b) => (Number(noiseKeys.has(a)) - Number(noiseKeys.has(b))) || counts.get(b)! - counts.get(a)! || a.localeCompare(b));
    const code = new Map(keys.map((k, i) => [k, i]));
    for (let i = 0; i < n; i++) codes[i] = code.get(cat[i] ?? NONE)!;
    const cx = new Float64Array(2 * keys.length);
    const cnt = new Float64Array(keys.length);
    for (let i = 0; i < n; i++) { const c = codes[i]; cx[2 * c] += xy[2 * i]; cx[2 * c + 1] += xy[2 * i + 1]; cnt[c]++; }
    for (let c = 0; c < keys.length; c++) { cx[2 * c] /= cnt[c]; cx[2 * c + 1] /= cnt[c]; }
    const noise = keys.map((k) => noiseKeys.has(k));
    const colours = assignGroupColours({ centroids: cx, sizes: Array.from(cnt), noise });
    keys.forEach((k, i) => legend.push({
      code: i, value: noise[i] ? null : k, label: noise[i] ? (o.field === 'cluster' ? 'noise' : 'no value') : (labelOf ? labelOf(k) : k),
      count: cnt[i], colour: colours[i], noise: noise[i], centroid: [cx[2 * i], cx[2 * i + 1]],
    }));
  } else {
    const vals = values!;
    const finite = Array.from(vals).filter(Number.isFinite);
    const lo = finite.length ? Math.min(...finite) : 0, hi = finite.length ? Math.max(...finite) : 0;
    // dates: a bin spans a second at least (photos copied in one second are one bin, not eight that read the same)
    const bins = Math.max(1, Math.min(o.bins ?? 8, 64, o.field === 'date' ? Math.ceil((hi - lo) / 1000) : Infinity));
    const w = hi > lo ? (hi - lo) / bins : 1;
    const colours = ramp(bins);
    const count = new Float64Array(bins + 1);
    for (let i = 0; i < n; i++) {
      const v = vals[i];
      codes[i] = Number.isFinite(v) ? Math.min(bins - 1, Math.floor((v - lo) / w)) : bins;
      count[codes[i]]++;
    }
    for (let b = 0; b < bins; b++) {
      const a = lo + b * w, z = b === bins - 1 ? hi : lo + (b + 1) * w;
      legend.push({ code: b, value: null, label: binLabel(o.field === 'date', a, z, hi > lo ? w : 0), count: count[b], colour: colours[b], noise: false, min: a, max: z });
    }
    legend.push({ code: bins, value: null, label: 'no value', count: count[bins], colour: NOISE_COLOUR, noise: true });
  }
  if (legend.length > 100_000) throw new AppError('CONFLICT', `field ${o.field} has ${legend.length} values`);
  return { mapId: o.mapId, field: o.field, kind, n, ids, codes, values: values ? Float32Array.from(values) : null, legend };
}

export type { MapFieldName };

/**
 * A bin's legend label, precise enough that neighbouring bins read differently: dates to the day when a bin spans a
 * day or more, else to the minute or the second (the date left out of the end when it is the start's); numbers with
 * as many decimals as the width needs. A bin of one value (width 0) shows that value alone.
 */
export function binLabel(isDate: boolean, a: number, z: number, width: number): string {
  if (isDate) {
    const iso = (x: number) => new Date(x).toISOString();
    const unit = width >= 86_400_000 ? 10 : width >= 60_000 ? 16 : 19;
    const fa = iso(a).slice(0, unit).replace('T', ' '), fz = iso(z).slice(0, unit).replace('T', ' ');
    if (width === 0 || fa === fz) return fa;
    return unit > 10 && fa.slice(0, 10) === fz.slice(0, 10) ? `${fa} – ${fz.slice(11)}` : `${fa} – ${fz}`;
  }
  const digits = width > 0 ? Math.min(8, Math.max(0, Math.ceil(-Math.log10(width)) + 1)) : 3;
  const fa = a.toFixed(digits), fz = z.toFixed(digits);
  return width === 0 || fa === fz ? fa : `${fa} – ${fz}`;
}
