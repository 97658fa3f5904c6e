/**
 * Built-in catalog of optional downloadable models. URLs point at the publishers' own hosting.
 *
 * Verification status: this catalog was written without network access to those hosts. Every value
 * that could not be checked against the downloaded file is listed in `unverified`; the downloader
 * only enforces `sha256`/`size` when they are non-null, so unverified entries still download, and the
 * manifest check (`ManifestModel.create`) validates the real input/output names and shapes at load.
 */
import { config } from '../config.ts';
import type { ModelManifest } from './manifest.ts';

export interface CatalogEntry {
  id: string;
  title: string;
  kind: 'image-embedding' | 'face-detector' | 'face-embedding' | 'text-encoder';
  url: string;
  /** file name to store under the models dir */
  file: string;
  /** bytes, or null when unknown */
  size: number | null;
  /** hex SHA-256, or null when unknown */
  sha256: string | null;
  license: string;
  /** names of fields in this entry (and its manifest) that are not verified against the real file */
  unverified: string[];
  /** manifest for image-embedding models (file relative to the models dir) */
  manifest?: ModelManifest;
  /** more files fetched by the same download (a text encoder's tokenizer), stored next to `file` */
  extra?: Array<{ url: string; file: string; size: number | null; sha256: string | null }>;
  notes?: string;
}

const CLIP_MEAN: [number, number, number] = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD: [number, number, number] = [0.26862954, 0.26130258, 0.27577711];
const IMAGENET_MEAN: [number, number, number] = [0.485, 0.456, 0.406];
const IMAGENET_STD: [number, number, number] = [0.229, 0.224, 0.225];

export const MODEL_CATALOG: readonly CatalogEntry[] = [
  {
    id: 'clip-vit-b32-vision',
    title: 'CLIP ViT-B/32 image encoder (OpenAI, ONNX export by Xenova/transformers.js)',
    kind: 'image-embedding',
    url: 'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/main/onnx/vision_model.onnx',
    file: 'clip-vit-b32-vision.onnx',
    size: null,
    sha256: null,
    license: 'MIT',
    unverified: ['size', 'sha256', 'manifest.inputName', 'manifest.outputName'],
    manifest: {
      name: 'clip-vit-b32',
      file: 'clip-vit-b32-vision.onnx',
      inputName: 'pixel_values',
      size: [224, 224],
      layout: 'NCHW',
      channelOrder: 'RGB',
      mean: CLIP_MEAN,
      std: CLIP_STD,
      scale: 1 / 255,
      outputName: 'image_embeds',
      dim: 512,
      normalize: true,
      resize: 'cover',
      version: 'openai/clip-vit-base-patch32',
      // the text side of the same model (catalog 'clip-vit-b32-text'), for text search
      text: { file: 'clip-vit-b32-text.onnx', tokenizer: 'clip-vit-b32-tokenizer.json', inputName: 'input_ids', outputName: 'text_embeds', maxLength: 77 },
    },
    notes: 'About 350 MB (float32). With clip-vit-b32-text installed, photos embedded with it can be searched by text.',
  },
  {
    id: 'clip-vit-b32-text',
    title: 'CLIP ViT-B/32 text encoder and tokenizer (OpenAI, ONNX export by Xenova/transformers.js)',
    kind: 'text-encoder',
    url: 'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/main/onnx/text_model.onnx',
    file: 'clip-vit-b32-text.onnx',
    size: null,
    sha256: null,
    license: 'MIT',
    unverified: ['size', 'sha256', 'text.inputName', 'text.outputName'],
    extra: [{ url: 'https://huggingface.co/Xenova/clip-vit-base-patch32/resolve/main/tokenizer.json', file: 'clip-vit-b32-tokenizer.json', size: null, sha256: null }],
    notes: 'About 250 MB (float32). Text search over the photos embedded with clip-vit-b32-vision (the same space).',
  },
  {
    id: 'dinov2-small',
    title: 'DINOv2 ViT-S/14 (Meta, ONNX export by Xenova/transformers.js)',
    kind: 'image-embedding',
    url: 'https://huggingface.co/Xenova/dinov2-small/resolve/main/onnx/model.onnx',
    file: 'dinov2-small.onnx',
    size: null,
    sha256: null,
    license: 'Apache-2.0',
    unverified: ['size', 'sha256', 'manifest.inputName', 'manifest.outputName'],
    manifest: {
      name: 'dinov2-small',
      file: 'dinov2-small.onnx',
      inputName: 'pixel_values',
      size: [224, 224],
      layout: 'NCHW',
      channelOrder: 'RGB',
      mean: IMAGENET_MEAN,
      std: IMAGENET_STD,
      scale: 1 / 255,
      outputName: 'pooler_output',
      dim: 384,
      normalize: true,
      resize: 'cover',
      version: 'facebook/dinov2-small',
    },
    notes: 'About 88 MB (float32).',
  },
  {
    id: 'yunet-2023mar',
    title: 'OpenCV YuNet face detector (2023mar)',
    kind: 'face-detector',
    url: 'https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/face_detection_yunet_2023mar.onnx',
    file: 'face_detection_yunet_2023mar.onnx',
    size: 232589,
    sha256: '8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4',
    license: 'MIT',
    unverified: ['size', 'sha256'],
    notes: 'size/sha256 taken from a third-party manifest, not checked against the file here.',
  },
  {
    id: 'sface-2021dec',
    title: 'OpenCV SFace face recognizer (2021dec)',
    kind: 'face-embedding',
    url: 'https://github.com/opencv/opencv_zoo/raw/main/models/face_recognition_sface/face_recognition_sface_2021dec.onnx',
    file: 'face_recognition_sface_2021dec.onnx',
    size: null,
    sha256: null,
    license: 'Apache-2.0',
    unverified: ['size', 'sha256', 'manifest'],
    notes: 'About 37 MB; 128-d output from a 112×112 aligned face (needs the face alignment, not a plain manifest resize).',
  },
];

/** Where a catalog file is fetched from: its publisher's URL, or the same path under CONSTELLATE_CATALOG_MIRROR. */
export function catalogUrl(url: string, mirror: string | null = config.catalogMirror()): string {
  if (mirror === null) return url;
  const u = new URL(url);
  return mirror.replace(/\/+$/, '') + u.pathname;
}

export function catalogEntry(id: string): CatalogEntry | undefined {
  return MODEL_CATALOG.find((e) => e.id === id);
}
