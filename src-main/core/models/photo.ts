/** Photo embeddings: nsfwjs mobilenet_v2_mid converted to ONNX; 1792-d pooled features + 5 class probabilities. */
import path from 'node:path';
import { AppError } from '../../common/errors.ts';
import { defaultModelsDir, PHOTO_SOURCE, verifyModel } from './files.ts';
import { preprocessPhoto, type ImageInput } from './image.ts';
import { createSession, ort, type RuntimeOptions } from './session.ts';

export const PHOTO_MODEL_NAME = 'photo';
export const PHOTO_DIM = 1792;
export const PHOTO_CLASSES = ['Drawing', 'Hentai', 'Neutral', 'Porn', 'Sexy'] as const;
export const PHOTO_INPUT_SIZE = 224;
/** Changes whenever the source model or the conversion changes. */
export const PHOTO_MODEL_VERSION = PHOTO_SOURCE;

const PIXELS = PHOTO_INPUT_SIZE * PHOTO_INPUT_SIZE * 3;

/** Disposing it (`await using`) releases its sessions, as release() does. */
export class PhotoEmbedder implements AsyncDisposable {
  readonly name = PHOTO_MODEL_NAME;
  readonly dim = PHOTO_DIM;
  readonly version = PHOTO_MODEL_VERSION;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly file: string,
  ) {}

  static async load(modelsDir: string = defaultModelsDir(), opts?: RuntimeOptions): Promise<PhotoEmbedder> {
    const [file] = verifyModel('photo', modelsDir);
    const session = await createSession(file!, opts);
    for (const n of ['features', 'probabilities']) {
      if (!session.outputNames.includes(n)) {
        throw new AppError('BAD_MODEL', `${path.resolve(file!)}: output '${n}' missing; re-run prepare-models`);
      }
    }
    return new PhotoEmbedder(session, file!);
  }

  /** NHWC float32 [224,224,3] in [0,1]. Throws BAD_IMAGE / BAD_FILE. */
  preprocess(input: ImageInput): Promise<Float32Array> {
    return preprocessPhoto(input, PHOTO_INPUT_SIZE);
  }

  /** Run a batch of preprocessed tensors. */
  async embedBatch(tensors: Float32Array[]): Promise<{ features: Float32Array; probabilities: Float32Array }> {
    const n = tensors.length;
    if (n === 0) return { features: new Float32Array(0), probabilities: new Float32Array(0) };
    const x = new Float32Array(n * PIXELS);
    tensors.forEach((t, i) => {
      if (t.length !== PIXELS) throw new AppError('BAD_ARGUMENT', `tensors[${i}]: expected ${PIXELS} values, got ${t.length}`);
      x.set(t, i * PIXELS);
    });
    const out = await this.session.run({ input: new ort.Tensor('float32', x, [n, PHOTO_INPUT_SIZE, PHOTO_INPUT_SIZE, 3]) });
    const features = new Float32Array(out.features!.data as Float32Array);
    const probabilities = new Float32Array(out.probabilities!.data as Float32Array);
    if (features.length !== n * PHOTO_DIM || probabilities.length !== n * PHOTO_CLASSES.length) {
      throw new AppError('BAD_MODEL', `${this.file}: unexpected output sizes`);
    }
    return { features, probabilities };
  }

  async release(): Promise<void> {
    await this.session.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }
}
