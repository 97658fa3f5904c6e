/** Embedding commands: embed (import-embeddings and export-embeddings: commands-interop.ts). */
import { AppError } from '../common/errors.ts';
import type { EmbedReport } from '../core/embed/embed-job.ts';
import type { Command } from './command.ts';

const embed: Command = {
  spec: {
    name: 'embed', summary: 'compute embeddings of new or changed photos (photo, face, or a model manifest)', positionals: [0, 0],
    usage: 'constellate embed --model photo|face|<manifest.json> [--library F] [--json]',
    options: {
      model: { type: 'string', help: 'photo (1792-d MobileNetV2), face (detect + 512-d MobileFaceNet) or a manifest .json' },
      batch: { type: 'number', help: 'images per inference batch (photo models, default 8)' },
      workers: { type: 'number', help: 'worker threads (default: one per core)' },
      'min-face-size': { type: 'number', help: 'smallest face side in pixels (face model, default 24)' },
      'score-threshold': { type: 'number', help: 'face detector score threshold (default 0.65)' },
      'min-face-quality': { type: 'number', help: 'drop detections whose face quality (feature norm) is below this: petals, eyes, blur (default 2.2; 0 keeps all)' },
    },
  },
  async run(ctx) {
    const model = ctx.opt<string>('model');
    if (!model) throw new AppError('BAD_ARGUMENT', '--model is required: photo, face or a manifest .json');
    const svc = ctx.api();
    const job = await ctx.runJob(() => svc.embed({
      model, batch: ctx.opt<number>('batch'), workers: ctx.opt<number>('workers'),
      minFaceSize: ctx.opt<number>('min-face-size'), scoreThreshold: ctx.opt<number>('score-threshold'),
      minFaceQuality: ctx.opt<number>('min-face-quality'),
    }));
    const r = ctx.result(job);
    const info = await svc.getInfo();
    const out = { jobId: job.id, ...r, faces: info.faces, embeddingsByModel: info.embeddings };
    ctx.out(out, `${r.model}: ${r.processed} photos embedded, ${r.failed} failed` + (r.kind === 'face' ? `, ${r.faces} faces found` : '') +
      `; ${r.embeddings} ${r.kind} embeddings stored (${r.photosPerSecond.toFixed(1)} photos/s)` +
      r.failures.slice(0, 5).map((f) => `\n  failed: ${f.path}: ${f.reason}`).join(''));
  },
};

// import-embeddings and export-embeddings (npy, Parquet, Arrow) are in commands-interop.ts

export const embedCommands: Command[] = [embed];
