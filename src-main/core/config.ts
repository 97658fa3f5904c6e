/**
 * Every environment variable Constellate reads, in one place (read when asked, so a test or a child process may set
 * them). Nothing else in src-main reads process.env for the app's own settings.
 *
 * - CONSTELLATE_APP_ROOT   the app root (package.json folder); default: found from this file
 * - CONSTELLATE_MODELS     the models folder (CONSTELLATE_MODELS_DIR is accepted as the same setting); default
 *                          resources/models of the app root
 * - CONSTELLATE_LIBRARY    the default library file
 * - CONSTELLATE_HOME       the user data folder (default: the platform's, as Electron's userData); it holds the default
 *                          library and the recent libraries list (recent-libraries.json)
 * - CONSTELLATE_WORKERS    worker threads for parallel work (default: the cores)
 * - CONSTELLATE_ORT_EP     'cuda' to run ONNX models on the GPU (default cpu)
 * - CONSTELLATE_DEBUG      print the stack of internal errors in the CLI
 * - CONSTELLATE_SHARED     the shared data sets and peers (tests, benches; default ../shared)
 * - CONSTELLATE_DECODE_BUDGET_MB, CONSTELLATE_MAX_PHOTO_BYTES, CONSTELLATE_READ_TIMEOUT_MS   image decode and read bounds
 * - CONSTELLATE_MAX_THREADS  the process-wide thread budget (thread-budget.ts; default the cores, at least 4)
 * - CONSTELLATE_WORKER_IDLE_MS  how long an idle pooled worker stays
 * - CONSTELLATE_CHECK_RESULTS  '1' / '0': the API doors validate every result against its schema (default: on under
 *                          NODE_ENV test or development and under vitest, off otherwise)
 * - CONSTELLATE_TRASH      the trash folder rejected files go to (tests; default the freedesktop home trash,
 *                          $XDG_DATA_HOME/Trash or ~/.local/share/Trash)
 * - CONSTELLATE_PARQUET_WASM_LIMIT_MB  Parquet exports up to this size are written by parquet-wasm, larger ones stream
 *                          (default 768; 0 streams every export: tests of the streaming writer)
 * - CONSTELLATE_CATALOG_MIRROR  a base URL the model catalog downloads from instead of the publishers' hosts (each
 *                          file at the same path under it: an offline mirror, or a test server)
 * - ORT_DISABLE_TELEMETRY  onnxruntime's own: set to '1' for the process when the thread budget is made, unless the
 *                          user set it (ORT's telemetry starts threads the budget cannot see; thread-budget.ts)
 */
import { resolve } from 'node:path';

const str = (name: string): string | null => {
  const v = process.env[name];
  return v === undefined || v === '' ? null : v;
};
const path = (name: string): string | null => {
  const v = str(name);
  return v === null ? null : resolve(v);
};

export const config = {
  appRoot: () => path('CONSTELLATE_APP_ROOT'),
  /** one setting under two names: CONSTELLATE_MODELS, else CONSTELLATE_MODELS_DIR */
  modelsDir: () => path('CONSTELLATE_MODELS') ?? path('CONSTELLATE_MODELS_DIR'),
  library: () => path('CONSTELLATE_LIBRARY'),
  home: () => path('CONSTELLATE_HOME'),
  workers: (): number | null => {
    const n = Number(str('CONSTELLATE_WORKERS'));
    return Number.isInteger(n) && n > 0 ? n : null;
  },
  ortDevice: (): 'cuda' | 'cpu' => (str('CONSTELLATE_ORT_EP') === 'cuda' ? 'cuda' : 'cpu'),
  debug: () => str('CONSTELLATE_DEBUG') !== null,
  checkResults: (): boolean => {
    const v = str('CONSTELLATE_CHECK_RESULTS');
    if (v !== null) return v !== '0';
    const env = str('NODE_ENV');
    return env === 'test' || env === 'development' || str('VITEST') !== null;
  },
  shared: () => path('CONSTELLATE_SHARED'),
  catalogMirror: () => str('CONSTELLATE_CATALOG_MIRROR'),
  /** a positive number, or null (then the caller's default) */
  positive: (name: 'CONSTELLATE_DECODE_BUDGET_MB' | 'CONSTELLATE_MAX_PHOTO_BYTES' | 'CONSTELLATE_READ_TIMEOUT_MS' | 'CONSTELLATE_MAX_THREADS' | 'CONSTELLATE_WORKER_IDLE_MS'): number | null => {
    const v = Number(str(name));
    return Number.isFinite(v) && v > 0 ? v : null;
  },
  /** platform folders the user data folder derives from */
  appData: () => str('APPDATA'),
  xdgConfigHome: () => str('XDG_CONFIG_HOME'),
  xdgDataHome: () => path('XDG_DATA_HOME'),
  /** the trash folder override (tests), else null: the freedesktop home trash */
  trash: () => path('CONSTELLATE_TRASH'),
  /** the npm CLI running an install script (prepare-models) */
  npmExecPath: () => str('npm_execpath'),
  /** MB (>= 0), or null: the writer's default */
  /** turns onnxruntime's telemetry off for this process (it reads the process's environment when it makes its own) */
  disableOrtTelemetry: (): void => { process.env.ORT_DISABLE_TELEMETRY ??= '1'; },
  parquetWasmLimitMb: (): number | null => {
    const v = str('CONSTELLATE_PARQUET_WASM_LIMIT_MB');
    const n = v === null ? NaN : Number(v);
    return Number.isFinite(n) && n >= 0 ? n : null;
  },
};
