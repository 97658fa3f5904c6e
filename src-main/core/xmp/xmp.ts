/**
 * People in XMP: Metadata Working Group face regions (mwg-rs, what digiKam, Lightroom, Picasa's successors and Immich
 * read and write) and people keywords, read from and written into XMP documents (sidecars).
 *
 * Reading accepts RDF/XML as tools write it: properties as attributes or as elements, structures as
 * rdf:parseType="Resource" or nested rdf:Description, lists as rdf:Bag/Seq/Alt; MWG regions and the older Windows
 * Live Photo Gallery regions (MP:RegionInfo, MPReg:Rectangle + PersonDisplayName). Namespaces are matched by their
 * local names (the prefixes every tool uses).
 *
 * Writing into an existing document keeps everything else in it: only face regions are replaced (regions of other
 * types are kept), and the names are added to dc:subject and lr:hierarchicalSubject ("People|Name").
 *
 * Coordinates: a region is kept here as its top-left corner and size, normalized to the image as displayed (after the
 * EXIF orientation), which is how the library stores face boxes; MWG's stArea x/y are the centre.
 */
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { boxIoU } from '../../algo/face-match.ts';
import { AppError } from '../../common/errors.ts';

export interface XmpRegion {
  /** person's name; null for an unnamed face region */
  name: string | null;
  /** top-left corner and size, normalized to [0, 1] */
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface XmpPeople {
  regions: XmpRegion[];
  /** the image size the regions were made for (mwg-rs:AppliedToDimensions), if stated */
  dims: { w: number; h: number } | null;
  /** dc:subject keywords */
  keywords: string[];
}

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

const OPTS = {
  preserveOrder: true, ignoreAttributes: false, attributeNamePrefix: '@_', parseTagValue: false, parseAttributeValue: false,
  trimValues: true, processEntities: true,
} as const;

const NS = {
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  dc: 'http://purl.org/dc/elements/1.1/',
  lr: 'http://ns.adobe.com/lightroom/1.0/',
  'mwg-rs': 'http://www.metadataworkinggroup.com/schemas/regions/',
  stArea: 'http://ns.adobe.com/xmp/sType/Area#',
  stDim: 'http://ns.adobe.com/xap/1.0/sType/Dimensions#',
} as const;

const local = (name: string) => name.slice(name.indexOf(':') + 1);
const tagOf = (n: Node): string | null => Object.keys(n).find((k) => k !== ':@') ?? null;
const kids = (n: Node): Node[] => { const t = tagOf(n); return t && Array.isArray(n[t]) ? (n[t] as Node[]) : []; };
const textOf = (n: Node): string => kids(n).map((c) => (typeof c['#text'] === 'string' ? c['#text'] : '')).join('');

function parse(xml: string, what: string): Node[] {
  const ok = XMLValidator.validate(xml);
  if (ok !== true) throw new AppError('BAD_FILE', `${what}: not an XMP document (${ok.err.msg}, line ${ok.err.line})`);
  try {
    return new XMLParser(OPTS).parse(xml) as Node[];
  } catch (e) {
    throw new AppError('BAD_FILE', `${what}: not an XMP document (${(e as Error).message.split('\n')[0]})`);
  }
}

function* walk(nodes: Node[]): Generator<Node> {
  for (const n of nodes) { yield n; yield* walk(kids(n)); }
}

/** An RDF value as plain data: a string, a list (Bag/Seq/Alt) or a structure keyed by local names. */
type Value = string | Value[] | { [k: string]: Value };

function valueOf(n: Node): Value {
  const attrs = n[':@'] ?? {};
  const elems = kids(n).filter((c) => tagOf(c) !== '#text');
  if (elems.length === 0 && textOf(n).trim()) return textOf(n);
  const list = elems.find((c) => ['Bag', 'Seq', 'Alt'].includes(local(tagOf(c)!)));
  if (list) return kids(list).filter((c) => local(tagOf(c) ?? '') === 'li').map(valueOf);
  const desc = elems.length === 1 && local(tagOf(elems[0]!)!) === 'Description' ? elems[0]! : null;
  const struct: { [k: string]: Value } = {};
  for (const src of desc ? [n, desc] : [n]) {
    for (const [k, v] of Object.entries(src[':@'] ?? {})) {
      const name = k.slice(2);
      if (name.startsWith('xmlns') || name === 'rdf:parseType' || name === 'rdf:about') continue;
      struct[local(name)] = v;
    }
  }
  for (const c of desc ? kids(desc).filter((x) => tagOf(x) !== '#text') : elems) struct[local(tagOf(c)!)] = valueOf(c);
  if (Object.keys(struct).length === 0 && Object.keys(attrs).every((k) => k.startsWith('@_xmlns') || k === '@_rdf:parseType')) return textOf(n);
  return struct;
}

const asStruct = (v: Value | undefined): { [k: string]: Value } => (v && typeof v === 'object' && !Array.isArray(v) ? v : {});
const asList = (v: Value | undefined): Value[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const num = (v: Value | undefined): number => (typeof v === 'string' ? Number(v) : NaN);
const clamp01 = (x: number) => Math.min(1, Math.max(0, x));

function descriptions(tree: Node[]): Node[] {
  return [...walk(tree)].filter((n) => {
    const t = tagOf(n);
    return t !== null && local(t) === 'Description';
  });
}

/** Most face regions one sidecar may hold (one photo's faces). */
export const MAX_XMP_REGIONS = 2000;

/** Face regions and keywords of an XMP document. `what` names it in errors (a file path). */
export function readXmpPeople(xml: string, what = 'XMP'): XmpPeople {
  const tree = parse(xml, what);
  const out: XmpPeople = { regions: [], dims: null, keywords: [] };
  // only top-level descriptions (children of rdf:RDF) carry the photo's properties
  const rdf = [...walk(tree)].find((n) => local(tagOf(n) ?? '') === 'RDF');
  if (!rdf) throw new AppError('BAD_FILE', `${what}: not an XMP document (no rdf:RDF)`);
  for (const d of kids(rdf).filter((n) => local(tagOf(n) ?? '') === 'Description')) {
    const props = asStruct(valueOf(d));
    for (const k of asList(props.subject)) if (typeof k === 'string' && k.trim()) out.keywords.push(k.trim());
    const regions = asStruct(props.Regions);
    if (props.Regions !== undefined) {
      const dims = asStruct(regions.AppliedToDimensions);
      const w = num(dims.w), h = num(dims.h);
      if (w > 0 && h > 0) out.dims = { w, h };
      for (const item of asList(regions.RegionList)) {
        const r = asStruct(item);
        if (typeof r.Type === 'string' && r.Type !== 'Face') continue;
        const a = asStruct(r.Area);
        const ax = num(a.x), ay = num(a.y), aw = num(a.w), ah = num(a.h);
        if (![ax, ay, aw, ah].every(Number.isFinite) || aw <= 0 || ah <= 0) continue;
        if (typeof a.unit === 'string' && a.unit !== 'normalized') continue;
        const name = typeof r.Name === 'string' && r.Name.trim() ? r.Name.trim() : null;
        out.regions.push({ name, x: clamp01(ax - aw / 2), y: clamp01(ay - ah / 2), w: Math.min(1, aw), h: Math.min(1, ah) });
      }
    }
    // Windows Live Photo Gallery: MP:RegionInfo/MPRI:Regions, rectangles "x, y, w, h" (top-left, normalized)
    const mp = asStruct(props.RegionInfo);
    for (const item of asList(mp.Regions)) {
      const r = asStruct(item);
      const rect = typeof r.Rectangle === 'string' ? r.Rectangle.split(',').map(Number) : [];
      if (rect.length !== 4 || !rect.every(Number.isFinite) || rect[2]! <= 0 || rect[3]! <= 0) continue;
      const name = typeof r.PersonDisplayName === 'string' && r.PersonDisplayName.trim() ? r.PersonDisplayName.trim() : null;
      out.regions.push({ name, x: clamp01(rect[0]!), y: clamp01(rect[1]!), w: Math.min(1, rect[2]!), h: Math.min(1, rect[3]!) });
    }
  }
  out.keywords = [...new Set(out.keywords)];
  // a photo has a bounded number of faces: a sidecar with more regions is not one (120,000 regions took 116 s)
  if (out.regions.length > MAX_XMP_REGIONS) throw new AppError('BAD_FILE', `${what}: ${out.regions.length} face regions, at most ${MAX_XMP_REGIONS} per photo`);
  // digiKam writes each face twice (MWG and Microsoft regions): one region per face (compared within one name only)
  const kept = new Map<string | null, XmpRegion[]>();
  out.regions = out.regions.filter((r) => {
    const same = kept.get(r.name) ?? kept.set(r.name, []).get(r.name)!;
    if (same.some((q) => regionIou(q, r) >= 0.5)) return false;
    same.push(r);
    return true;
  });
  return out;
}

/** Overlap of two regions (intersection over union). */
export const regionIou = (a: XmpRegion, b: XmpRegion): number => boxIoU(a, b);

const f6 = (x: number) => String(Math.round(x * 1e6) / 1e6);
const text = (s: string): Node => ({ '#text': s });
const el = (tag: string, children: Node[], attrs?: Record<string, string>): Node => {
  const n: Node = { [tag]: children };
  if (attrs) n[':@'] = Object.fromEntries(Object.entries(attrs).map(([k, v]) => [`@_${k}`, v]));
  return n;
};
const bag = (tag: string, items: string[]) => el(tag, [el('rdf:Bag', items.map((s) => el('rdf:li', [text(s)])))]);

function regionNode(r: XmpRegion): Node {
  const fields: Node[] = [];
  if (r.name) fields.push(el('mwg-rs:Name', [text(r.name)]));
  fields.push(el('mwg-rs:Type', [text('Face')]));
  fields.push(el('mwg-rs:Area', [], {
    'stArea:x': f6(r.x + r.w / 2), 'stArea:y': f6(r.y + r.h / 2), 'stArea:w': f6(r.w), 'stArea:h': f6(r.h), 'stArea:unit': 'normalized',
  }));
  return el('rdf:li', fields, { 'rdf:parseType': 'Resource' });
}

function regionsNode(dims: { w: number; h: number }, items: Node[]): Node {
  return el('mwg-rs:Regions', [
    el('mwg-rs:AppliedToDimensions', [], { 'stDim:w': String(dims.w), 'stDim:h': String(dims.h), 'stDim:unit': 'pixel' }),
    el('mwg-rs:RegionList', [el('rdf:Bag', items)]),
  ], { 'rdf:parseType': 'Resource' });
}

/** Turns a region list item as parsed back into a node (kept as it was). */
function listItems(regionsEl: Node | undefined): Node[] {
  if (!regionsEl) return [];
  const find = (n: Node, name: string): Node | undefined => kids(n).find((c) => local(tagOf(c) ?? '') === name);
  let holder: Node = regionsEl;
  const d = find(regionsEl, 'Description');
  if (d) holder = d;
  const list = find(holder, 'RegionList');
  const b = list ? kids(list).find((c) => ['Bag', 'Seq'].includes(local(tagOf(c) ?? ''))) : undefined;
  return b ? kids(b).filter((c) => local(tagOf(c) ?? '') === 'li') : [];
}

export interface WritePeople {
  /** the image as displayed (after EXIF orientation), in pixels */
  dims: { w: number; h: number };
  /** the faces to write (named or not) */
  regions: XmpRegion[];
  /** tool name written as xmp:CreatorTool only in a new document */
  tool?: string;
}

/**
 * An XMP document with these face regions and people keywords: `existing` updated (its other properties, keywords
 * and non-face regions kept; face regions that overlap a written one, or carry one of the written names, replaced),
 * or a new sidecar document when `existing` is null.
 */
export function writeXmpPeople(existing: string | null, p: WritePeople, what = 'XMP'): string {
  const names = [...new Set(p.regions.map((r) => r.name).filter((n): n is string => !!n))];
  if (existing === null) {
    const desc = el('rdf:Description', [
      regionsNode(p.dims, p.regions.map(regionNode)),
      ...(names.length ? [bag('dc:subject', names), bag('lr:hierarchicalSubject', names.map((n) => `People|${n}`))] : []),
    ], {
      'rdf:about': '', 'xmlns:dc': NS.dc, 'xmlns:lr': NS.lr, 'xmlns:mwg-rs': NS['mwg-rs'], 'xmlns:stArea': NS.stArea, 'xmlns:stDim': NS.stDim,
      'xmlns:xmp': 'http://ns.adobe.com/xap/1.0/', 'xmp:CreatorTool': p.tool ?? 'Constellate',
    });
    return build([
      el('?xpacket', [text('')], { begin: '\uFEFF', id: 'W5M0MpCehiHzreSzNTczkc9d' }),
      el('x:xmpmeta', [el('rdf:RDF', [desc], { 'xmlns:rdf': NS.rdf })], { 'xmlns:x': 'adobe:ns:meta/' }),
      el('?xpacket', [text('')], { end: 'w' }),
    ]);
  }
  const tree = parse(existing, what);
  const rdf = [...walk(tree)].find((n) => local(tagOf(n) ?? '') === 'RDF');
  if (!rdf) throw new AppError('BAD_FILE', `${what}: not an XMP document (no rdf:RDF)`);
  const descs = kids(rdf).filter((n) => local(tagOf(n) ?? '') === 'Description');
  let desc = descs[0];
  if (!desc) { desc = el('rdf:Description', [], { 'rdf:about': '' }); kids(rdf).push(desc); }
  const attrs = (desc[':@'] ??= {});
  for (const [prefix, uri] of Object.entries(NS)) if (prefix !== 'rdf' && !attrs[`@_xmlns:${prefix}`]) attrs[`@_xmlns:${prefix}`] = uri;
  // the regions already there, wherever they are (any top-level description)
  let kept: Node[] = [];
  let at = -1;
  for (const d of descs) {
    const children = kids(d);
    const i = children.findIndex((c) => local(tagOf(c) ?? '') === 'Regions');
    if (i < 0) continue;
    for (const li of listItems(children[i])) {
      const r = asStruct(valueOf(li));
      const isFace = r.Type === undefined || r.Type === 'Face';
      if (!isFace) { kept.push(li); continue; }
      const a = asStruct(r.Area);
      const old: XmpRegion = { name: typeof r.Name === 'string' ? r.Name : null, x: num(a.x) - num(a.w) / 2, y: num(a.y) - num(a.h) / 2, w: num(a.w), h: num(a.h) };
      const replaced = p.regions.some((n) => regionIou(n, old) >= 0.3) || (old.name !== null && names.includes(old.name));
      if (!replaced) kept.push(li);
    }
    children.splice(i, 1);
    if (d === desc) at = i;
  }
  kept = [...kept, ...p.regions.map(regionNode)];
  // the same faces as Windows Live regions (digiKam writes both): the ones written here replace them too
  for (const d of descs) {
    for (const info of kids(d).filter((c) => local(tagOf(c) ?? '') === 'RegionInfo')) {
      for (const n of walk([info])) {
        if (!['Bag', 'Seq'].includes(local(tagOf(n) ?? ''))) continue;
        const items = kids(n);
        for (let j = items.length - 1; j >= 0; j--) {
          const r = asStruct(valueOf(items[j]!));
          const rect = typeof r.Rectangle === 'string' ? r.Rectangle.split(',').map(Number) : [];
          if (rect.length !== 4) continue;
          const old: XmpRegion = { name: null, x: rect[0]!, y: rect[1]!, w: rect[2]!, h: rect[3]! };
          if (p.regions.some((q) => regionIou(q, old) >= 0.3)) items.splice(j, 1);
        }
      }
    }
  }
  const children = kids(desc);
  // where the regions were (a rewrite with the same faces gives the same document)
  children.splice(at < 0 ? children.length : at, 0, regionsNode(p.dims, kept));
  const addToBag = (tag: string, values: string[]) => {
    if (!values.length) return;
    let prop = children.find((c) => local(tagOf(c) ?? '') === local(tag));
    if (!prop) { prop = bag(tag, []); children.push(prop); }
    let b = kids(prop).find((c) => ['Bag', 'Seq'].includes(local(tagOf(c) ?? '')));
    if (!b) { b = el('rdf:Bag', []); kids(prop).push(b); }
    const have = new Set(kids(b).map(textOf));
    for (const v of values) if (!have.has(v)) kids(b).push(el('rdf:li', [text(v)]));
  };
  addToBag('dc:subject', names);
  addToBag('lr:hierarchicalSubject', names.map((n) => `People|${n}`));
  // the packet header's byte-order mark is an attribute value the parser drops
  for (const n of tree) if (tagOf(n) === '?xpacket' && n[':@'] && '@_begin' in n[':@']) n[':@']['@_begin'] = '\uFEFF';
  return build(tree);
}

function build(tree: Node[]): string {
  return (new XMLBuilder({ ...OPTS, format: true, suppressEmptyNode: true }).build(tree) as string).trimStart();
}
