/**
 * The photo viewer's state: any view opens it on a list of items (photos or faces) at one index; the viewer
 * (components/PhotoViewer.vue, mounted once in App.vue) shows that item's photo with its faces, prev/next and Esc.
 */
import { reactive } from 'vue';
import type { ItemKind } from '@common/types.ts';

export interface ViewerItem { kind: ItemKind; id: number }

export const viewer = reactive<{ items: ViewerItem[]; index: number; open: boolean; runId: number | null }>({
  items: [], index: 0, open: false, runId: null,
});

/** Open the viewer on `items` at `index` (a face opens its photo with that face highlighted). */
export function openViewer(items: ViewerItem[], index = 0, runId: number | null = null): void {
  if (!items.length) return;
  viewer.items = items;
  viewer.index = Math.max(0, Math.min(items.length - 1, index));
  viewer.runId = runId;
  viewer.open = true;
}

export function closeViewer(): void {
  viewer.open = false;
}
