/**
 * A self-contained HTML report of one run: inline CSS, images as small base64 JPEG data URIs, an inline SVG size
 * histogram, no scripts and no external resources. All text is escaped.
 *
 * Sections: parameters, metrics, timings; top-10 / tail-10 clusters by size before and after post-processing (from
 * `runs.record.report`); the current size histogram; and per group (largest first) its name, size, curated flag and
 * its stored top and tail samples (`clusters.top` / `clusters.tail`) as small images with their similarity. To keep
 * the file reasonable on huge runs, sample images are embedded for the first HTML_IMAGE_GROUPS groups only; the rest
 * are listed with sizes.
 */
import type { RunInfo, Sample } from '../../common/types.ts';
import type { JobContext } from '../jobs.ts';
import type { Library } from '../library.ts';
import { clusterSampleRows, sampleReaders } from '../store/export-repo.ts';
import { sampleDataUri } from './images.ts';
import type { Group } from './items.ts';

export const HTML_IMAGE_GROUPS = 300;
const SAMPLES_SHOWN = 8;

export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(4);
  if (v === null || v === undefined) return '-';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

function kvTable(o: Record<string, unknown>): string {
  const rows = Object.entries(o ?? {}).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(fmt(v))}</td></tr>`).join('');
  return rows ? `<table class="kv">${rows}</table>` : '<p class="muted">none</p>';
}

interface Side { clusters?: number; clustered?: number; noise?: number; top?: Array<{ id: number; size: number }>; tail?: Array<{ id: number; size: number }> }

function sideTable(title: string, s: Side | undefined): string {
  if (!s) return '';
  const list = (a: Array<{ id: number; size: number }> | undefined) => (a ?? []).map((c) => `<tr><td>${esc(c.id)}</td><td>${esc(c.size)}</td></tr>`).join('');
  return `<div class="side"><h3>${esc(title)}</h3><p>${esc(s.clusters ?? '-')} clusters, ${esc(s.clustered ?? '-')} clustered, ${esc(s.noise ?? '-')} noise</p>
<div class="two"><table><caption>top 10 by size</caption><tr><th>cluster</th><th>size</th></tr>${list(s.top)}</table>
<table><caption>tail 10 by size</caption><tr><th>cluster</th><th>size</th></tr>${list(s.tail)}</table></div></div>`;
}

/** Log-2 bins of group sizes as an inline SVG bar chart. */
export function histogramSvg(sizes: number[]): string {
  if (!sizes.length) return '<p class="muted">no clusters</p>';
  const max = Math.max(...sizes);
  const nb = Math.floor(Math.log2(max)) + 1;
  const bins = new Array<number>(nb).fill(0);
  for (const s of sizes) bins[Math.floor(Math.log2(Math.max(1, s)))]++;
  const W = 640, H = 200, pad = 30, bw = (W - pad * 2) / nb;
  const top = Math.max(...bins);
  const bars = bins.map((c, i) => {
    const h = top ? ((H - pad * 2) * c) / top : 0;
    const x = pad + i * bw, y = H - pad - h;
    const lo = 2 ** i, hi = 2 ** (i + 1) - 1;
    const label = lo === hi ? `${lo}` : `${lo}-${hi}`;
    return `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a7bd0"><title>${esc(label)}: ${c} clusters</title></rect>` +
      `<text x="${(x + bw / 2).toFixed(1)}" y="${H - pad + 14}" font-size="10" text-anchor="middle">${esc(label)}</text>` +
      (c ? `<text x="${(x + bw / 2).toFixed(1)}" y="${(y - 3).toFixed(1)}" font-size="10" text-anchor="middle">${c}</text>` : '');
  }).join('');
  return `<svg width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="cluster size histogram">` +
    `<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="#333"/>${bars}` +
    `<text x="${W / 2}" y="${H - 4}" font-size="11" text-anchor="middle">cluster size (members)</text></svg>`;
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;background:#fff}h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:6px 12px 6px 0}td,th{border:1px solid #ddd;padding:2px 8px;text-align:left;font-variant-numeric:tabular-nums}
caption{font-weight:600;text-align:left}.kv th{background:#f5f5f5}.two{display:flex;flex-wrap:wrap}.side{display:inline-block;vertical-align:top;margin-right:24px}
.muted{color:#888}.group{margin:14px 0;padding:8px;border:1px solid #e3e3e3;border-radius:6px}.group h3{margin:0 0 6px;font-size:15px}
.strip{display:flex;flex-wrap:wrap;gap:4px;align-items:flex-start}.strip figure{margin:0;text-align:center;font-size:10px;color:#555}
.strip img,.strip .none{width:80px;height:80px;display:block;border-radius:3px;background:#eee}.sep{width:12px}.tag{font-size:11px;background:#e7f3e7;padding:1px 6px;border-radius:8px}`;

export async function renderHtmlReport(lib: Library, run: RunInfo, groups: Group[], ctx: JobContext): Promise<string> {
  const db = lib.db;
  const stored = new Map<number, { top: Sample[]; tail: Sample[]; meanSim: number | null }>();
  for (const r of clusterSampleRows(db, run.id)) {
    stored.set(r.cluster, { top: JSON.parse(r.top), tail: JSON.parse(r.tail), meanSim: r.mean_sim });
  }
  const q = sampleReaders(db);
  const img = async (s: Sample): Promise<string> => {
    let uri: string | null = null;
    let title = `item ${s.item}`;
    if (run.kind === 'photo') {
      const p = q.photo(s.item);
      if (p) { title = p.path; uri = await sampleDataUri(lib, { kind: 'photo', path: p.path, hash: p.hash, box: null, thumb: null }); }
    } else {
      const f = q.face(s.item);
      if (f) { title = `${f.path} face ${s.item}`; uri = await sampleDataUri(lib, { kind: 'face', path: f.path, hash: f.hash, box: [f.x, f.y, f.w, f.h], thumb: f.thumb }); }
    }
    const sim = typeof s.sim === 'number' ? s.sim.toFixed(3) : '-';
    return `<figure title="${esc(title)}">${uri ? `<img alt="${esc(`item ${s.item}`)}" src="${uri}">` : '<div class="none"></div>'}<figcaption>${esc(sim)}</figcaption></figure>`;
  };
  const rec = run.record as { report?: { before?: Side; after?: Side; steps?: Array<{ step: string; dropped: number }> } };
  const rep = rec.report;
  const parts: string[] = [];
  const title = `Constellate run ${run.id}: ${run.algo} on ${run.n} ${run.kind}s (${run.model})`;
  parts.push(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">`);
  parts.push(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">`);
  parts.push(`<title>${esc(title)}</title><style>${CSS}</style></head><body>`);
  parts.push(`<h1>${esc(title)}</h1><p class="muted">created ${esc(new Date(run.createdAt).toISOString())}; report ${esc(new Date().toISOString())}; ${esc(groups.filter((g) => g.cluster >= 0).length)} groups now</p>`);
  parts.push(`<h2>Parameters</h2>${kvTable(run.params as unknown as Record<string, unknown>)}`);
  const metrics = { ...run.metrics };
  parts.push(`<h2>Metrics</h2>${kvTable(metrics)}`);
  parts.push(`<h2>Timings (ms)</h2>${kvTable(run.timings)}`);
  parts.push('<h2>Clusters by size, before and after post-processing</h2>');
  if (rep) {
    parts.push(sideTable('before', rep.before) + sideTable('after', rep.after));
    if (rep.steps?.length) parts.push(`<table><caption>post-processing steps</caption><tr><th>step</th><th>moved to noise</th></tr>${rep.steps.map((s) => `<tr><td>${esc(s.step)}</td><td>${esc(s.dropped)}</td></tr>`).join('')}</table>`);
  } else parts.push('<p class="muted">this run has no post-processing report</p>');
  const clusterSizes = groups.filter((g) => g.cluster >= 0).map((g) => g.size);
  parts.push(`<h2>Size histogram (current groups, log-2 bins)</h2>${histogramSvg(clusterSizes)}`);
  parts.push('<h2>Groups</h2>');
  const total = groups.length;
  ctx.progress('report', 0, total);
  let k = 0;
  const rest: Group[] = [];
  for (const g of groups) {
    ctx.checkCancelled();
    if (k >= HTML_IMAGE_GROUPS || g.cluster < 0) { rest.push(g); ctx.progress('report', ++k, total); continue; }
    const s = stored.get(g.cluster);
    const name = g.name ?? `cluster-${g.cluster}`;
    const top: string[] = [], tail: string[] = [];
    for (const x of (s?.top ?? []).slice(0, SAMPLES_SHOWN)) top.push(await img(x));
    for (const x of (s?.tail ?? []).slice(0, SAMPLES_SHOWN)) tail.push(await img(x));
    parts.push(`<div class="group"><h3>${esc(name)} <span class="muted">#${esc(g.cluster)} &middot; ${esc(g.size)} members` +
      `${s?.meanSim !== null && s?.meanSim !== undefined ? ` &middot; mean similarity ${esc(s.meanSim.toFixed(3))}` : ''}</span>${g.curated ? ' <span class="tag">curated</span>' : ''}</h3>` +
      `<div class="strip">${top.join('') || '<span class="muted">no samples</span>'}<div class="sep"></div>${tail.join('')}</div>` +
      `<p class="muted">top ${top.length} (most similar to the centroid) then tail ${tail.length} (least similar)</p></div>`);
    ctx.progress('report', ++k, total);
  }
  if (rest.length) {
    parts.push(`<table><caption>${rest.length} more groups (no images)</caption><tr><th>group</th><th>cluster</th><th>size</th><th>curated</th></tr>` +
      rest.map((g) => `<tr><td>${esc(g.cluster < 0 ? 'noise' : g.name ?? `cluster-${g.cluster}`)}</td><td>${esc(g.cluster)}</td><td>${esc(g.size)}</td><td>${g.curated ? 'yes' : ''}</td></tr>`).join('') + '</table>');
  }
  parts.push('</body></html>\n');
  return parts.join('\n');
}
