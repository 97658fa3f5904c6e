/**
 * What a model's embeddings separate, in plain words, and what to do when that is not what the person is grouping by.
 * Read from what getInfo already tells (the model's kind, source and name; a catalog model keeps its catalog name),
 * shown in Tune beside the model and with each run (Clusters), so the built-in photo model is never described as if
 * it found subjects: it was trained to tell drawings, explicit and neutral photos apart, and groups by style and colour.
 */
import type { ModelInfo } from '@common/types.ts';

export interface ModelNote {
  /** what the embeddings tell apart */
  separates: string;
  /** what to do for groups by subject (null: the model is fit for its purpose) */
  advice: string | null;
  /** 'limited': groups by look, not by what is in the photos */
  level: 'fit' | 'limited' | 'unknown';
}

const SUBJECT_ADVICE = 'For groups by subject: download a catalog model (Library → Model catalog: CLIP ViT-B/32 or DINOv2) and embed with it, '
  + 'import your own embeddings (constellate import-embeddings), or start a labeling session: name a few groups (People, Review, Clusters) and assign the rest to them.';

/** The note for one model (by its getInfo row). */
export function modelNote(m: Pick<ModelInfo, 'name' | 'kind' | 'source'> | null | undefined): ModelNote | null {
  if (!m) return null;
  if (m.source === 'builtin' && m.kind === 'photo') {
    return {
      separates: 'style and colour: the built-in photo model (nsfwjs MobileNet v2) was trained to tell drawings, explicit and neutral photos apart, so it groups photos by look (palette, drawn or photographed, skin), not by who or what is in them',
      advice: SUBJECT_ADVICE,
      level: 'limited',
    };
  }
  if (m.source === 'builtin' && m.kind === 'face') {
    return { separates: 'identity: faces of the same person are close (its identity threshold is calibrated on labeled faces)', advice: null, level: 'fit' };
  }
  if (/^clip/i.test(m.name)) return { separates: 'subjects and concepts: CLIP was trained on photos with their captions', advice: null, level: 'fit' };
  if (/^dinov2/i.test(m.name)) return { separates: 'objects, scenes and shapes: DINOv2 features (self-supervised), good for subjects and near-duplicates', advice: null, level: 'fit' };
  if (m.source === 'imported') return { separates: `whatever the imported embeddings (${m.name}) were made to separate`, advice: null, level: 'unknown' };
  return { separates: `what your model ${m.name} was trained to separate`, advice: null, level: 'unknown' };
}
