/** Embedding commands: embed, import-embeddings, export-embeddings. */
import { AppError } from '../common/errors.ts';
import type { EmbedReport } from '../core/embed/embed-job.ts';
import type { Command } from './main.ts';

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

const importEmb: Command = {
  spec: {
    name: 'import-embeddings', summary: 'import a .npy matrix + ids file as a model\'s embeddings', positionals: [1, 1],
    usage: 'constellate import-embeddings X.npy --ids ids.csv --model NAME [--library F] [--json]',
    options: {
      ids: { type: 'string', help: 'CSV (path[,x,y,w,h]) or JSON lines ({"path","box"}) with one row per matrix row' },
      model: { type: 'string', help: 'name to store the embeddings under' },
    },
  },
  async run(ctx) {
    const ids = ctx.opt<string>('ids');
    const model = ctx.opt<string>('model');
    if (!ids) throw new AppError('BAD_ARGUMENT', '--ids is required');
    if (!model) throw new AppError('BAD_ARGUMENT', '--model is required');
    const r = await ctx.api().importEmbeddings({ npy: ctx.parsed.positionals[0], ids, model });
    ctx.out(r, `${r.imported} of ${r.rows} rows imported as ${r.model} (${r.kind}, ${r.dim}-d)` + (r.unmatched ? `; ${r.unmatched} paths are not photos of this library` : ''));
  },
};

const exportEmb: Command = {
  spec: {
    name: 'export-embeddings', summary: 'write a model\'s embeddings as .npy + ids CSV', positionals: [0, 0],
    usage: 'constellate export-embeddings --model NAME --out X.npy [--ids ids.csv] [--force] [--library F] [--json]',
    options: {
      model: { type: 'string', help: 'model name' },
      out: { type: 'string', help: 'the .npy file to write' },
      ids: { type: 'string', help: 'the ids CSV to write (default: next to --out, .ids.csv)' },
      force: { type: 'flag', help: 'replace existing output files (never the library\'s own files)' },
    },
  },
  async run(ctx) {
    const model = ctx.opt<string>('model');
    const out = ctx.opt<string>('out');
    if (!model) throw new AppError('BAD_ARGUMENT', '--model is required');
    if (!out) throw new AppError('BAD_ARGUMENT', '--out is required');
    const r = await ctx.api().exportEmbeddings({ model, out, ids: ctx.opt<string>('ids'), force: !!ctx.opt('force') });
    ctx.out(r, `${r.rows} x ${r.dim} embeddings of ${r.model} written to ${r.out} (ids: ${r.ids})`);
  },
};

export const embedCommands: Command[] = [embed, importEmb, exportEmb];
