/**
 * Worker-thread entry of the pool (workers/pool.ts): runs the tasks of registry.ts one at a time, as they come, with progress and
 * cancellation wired to the parent. The thread stays up between tasks, so what a task loaded (workers/warm.ts) is reused.
 */
import { parentPort } from 'node:worker_threads';
import { AppError, toPayload } from '../../common/errors.ts';
import { TASKS } from './registry.ts';
import type { TaskContext, TaskFn } from '../workers/tasks.ts';
import { countTask, endTask } from '../workers/warm.ts';
import type { ToWorker } from '../workers/pool.ts';

async function run(m: ToWorker): Promise<void> {
  const fn = (TASKS as Record<string, TaskFn<never, unknown>>)[m.task];
  if (!fn) throw new AppError('INTERNAL', `unknown worker task ${m.task}`);
  countTask();
  let last = 0;
  const ctx: TaskContext = {
    isCancelled: () => Atomics.load(m.cancelFlag, 0) === 1,
    progress: (stage, done, total, extra) => {
      const now = Date.now();
      if (extra === undefined && now - last < 100 && done !== total) return;
      last = now;
      parentPort!.postMessage({ type: 'progress', id: m.id, stage, done, total, extra });
    },
  };
  const out = await fn(m.payload as never, ctx);
  parentPort!.postMessage({ type: 'result', id: m.id, result: out.result }, (out.transfer ?? []) as never);
}

// one task at a time: the pool sends the next only after this one's result or error
parentPort!.on('message', (m: ToWorker) => {
  if (m?.type !== 'run') return;
  run(m).catch((e) => parentPort!.postMessage({ type: 'error', id: m.id, error: toPayload(e) })).finally(endTask);
});
