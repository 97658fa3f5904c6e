/**
 * The loop a helper worker of a chunked runner (UMAP SGD epochs, t-SNE gradient phases) runs: announce itself, wait
 * for each new generation, take chunks of it, until told to stop. Both runners lay out these control words alike in
 * their shared Int32Array.
 */
const GEN = 0, STOP = 3, DONE = 5, FAILED = 6, READY = 8;

export function helperLoop(ctrl: Int32Array, isCancelled: () => boolean, runGeneration: (gen: number) => void): void {
  let seen = 0;
  Atomics.add(ctrl, READY, 1);
  Atomics.notify(ctrl, READY);
  try {
    for (;;) {
      Atomics.wait(ctrl, GEN, seen, 250);
      if (Atomics.load(ctrl, STOP) === 1 || isCancelled()) return;
      const gen = Atomics.load(ctrl, GEN);
      if (gen === seen) continue;
      seen = gen;
      runGeneration(gen);
    }
  } catch (e) {
    // the caller waiting on DONE learns that this helper failed
    Atomics.store(ctrl, FAILED, 1);
    Atomics.notify(ctrl, DONE);
    throw e;
  }
}
