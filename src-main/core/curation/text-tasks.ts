/**
 * Text search's encoder in a worker: the CLIP text encoder (tokenizer + ONNX session) is loaded and kept warm in the
 * worker that runs it, so the main thread only routes (./text-search.ts reads the library and ranks through the pool).
 */
import type { TaskContext } from '../workers/tasks.ts';
import { fileKey, warmModel } from '../workers/warm.ts';
import { TextEncoder, type TextEncoderSpec } from '../models/text-encoder.ts';

export interface TextEmbedPayload { spec: TextEncoderSpec; manifestPath: string; dim: number; files: { model: string; tokenizer: string }; text: string }

/** The words as one vector of the model's space (a changed encoder or tokenizer file is reloaded). */
export async function textEmbedTask(p: TextEmbedPayload, _ctx: TaskContext): Promise<{ result: Float32Array; transfer: ArrayBuffer[] }> {
  const encoder = await warmModel(fileKey([p.manifestPath, p.files.model, p.files.tokenizer], 'text'), () => TextEncoder.load(p.spec, p.manifestPath, p.dim));
  const q = await encoder.embed(p.text);
  return { result: q, transfer: [q.buffer as ArrayBuffer] };
}
