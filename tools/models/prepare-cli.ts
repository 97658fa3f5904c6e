/**
 * The model build's entry: `constellate prepare-models` (and so npm's postinstall) runs it in its own process, so no
 * production file imports the TF.js -> ONNX toolchain.
 *
 *   node --import tsx/esm tools/models/prepare-cli.ts --models-dir DIR [--quiet]
 *
 * stdout: one JSON document, the models' status (ModelStatus[] of core/models/files.ts) or `{error: {code, message}}`
 * (exit status as the CLI's); progress on stderr unless --quiet.
 */
import { AppError, exitCode, toPayload } from '../../src-main/common/errors.ts';
import { prepareModels } from './prepare.ts';

const argv = process.argv.slice(2);
const at = argv.indexOf('--models-dir');
try {
  const modelsDir = at >= 0 ? argv[at + 1] : undefined;
  if (at >= 0 && !modelsDir) throw new AppError('BAD_ARGUMENT', '--models-dir needs a value');
  const status = await prepareModels({ modelsDir, quiet: argv.includes('--quiet') });
  process.stdout.write(JSON.stringify(status) + '\n');
} catch (e) {
  const p = toPayload(e);
  process.stdout.write(JSON.stringify({ error: p }) + '\n');
  process.exitCode = exitCode(p.code);
}
