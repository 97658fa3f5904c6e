/** Worker-thread entry: runs one task from tasks.ts with progress and cancellation wired to the parent. */
import { parentPort, workerData } from 'node:worker_threads';
import { AppError, toPayload } from '../../common/errors.ts';
import { TASKS, type TaskContext } from './tasks.ts';

const { task, payload, cancelFlag } = workerData as { task: string; payload: unknown; cancelFlag: Int32Array };

async function run(): Promise<void> {
  const fn = TASKS[task];
  if (!fn) throw new AppError('INTERNAL', `unknown worker task ${task}`);
  let last = 0;
  const ctx: TaskContext = {
    isCancelled: () => Atomics.load(cancelFlag, 0) === 1,
    progress: (stage, done, total, extra) => {
      const now = Date.now();
      if (extra === undefined && now - last < 100 && done !== total) return;
      last = now;
      parentPort!.postMessage({ type: 'progress', stage, done, total, extra });
    },
  };
  const out = await fn(payload as never, ctx);
  parentPort!.postMessage({ type: 'result', result: out.result }, (out.transfer ?? []) as never);
}

run().catch((e) => parentPort!.postMessage({ type: 'error', error: toPayload(e) }));
