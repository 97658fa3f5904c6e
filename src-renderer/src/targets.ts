/**
 * The groups a selection can be moved to, as the "Move to…" picker lists them: label by the run's kind ("person 9" /
 * "cluster 9" when unnamed), size, and a thumbnail (the group's avatar, else its top sample, fetched once per item).
 */
import type { ItemKind, Sample } from '@common/types.ts';
import { api } from './api.ts';
import type { MoveTarget } from './components/MovePicker.vue';
import { groupLabel } from './words.ts';

const thumbs = new Map<string, string | null>();

export async function moveTargets(kind: ItemKind, rows: ReadonlyArray<{ cluster: number; name: string | null; size: number; top?: Sample[]; thumb?: string | null }>): Promise<MoveTarget[]> {
  const want = [...new Set(rows.filter((r) => r.thumb === undefined).map((r) => r.top?.[0]?.item).filter((x): x is number => x !== undefined && !thumbs.has(`${kind}:${x}`)))];
  for (let i = 0; i < want.length; i += 500) {
    const views = await api.getItems({ kind, ids: want.slice(i, i + 500) });
    for (const v of views) thumbs.set(`${kind}:${v.item}`, v.thumb);
  }
  return rows.map((r) => {
    const t = r.thumb !== undefined ? r.thumb : (r.top?.[0] ? thumbs.get(`${kind}:${r.top[0].item}`) ?? null : null);
    return [String(r.cluster), `${groupLabel(r.cluster, r.name, kind)} (${r.size})`, t, r.size] as MoveTarget;
  });
}
