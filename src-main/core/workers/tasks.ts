/**
 * What every worker task is given and returns (the registry of tasks by name is core/tasks/registry.ts; the pool,
 * pool.ts, takes each task's payload and result types from it). Feature task files import these types from here, so
 * the pool and the features never import the registry back.
 */
export interface TaskContext {
  isCancelled(): boolean;
  progress(stage: string, done: number, total: number, extra?: unknown): void;
}

export type TaskFn<P, R> = (payload: P, ctx: TaskContext) => Promise<{ result: R; transfer?: ArrayBuffer[] }>;
