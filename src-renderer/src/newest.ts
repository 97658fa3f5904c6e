/**
 * The one guard against stale answers: a view that loads on every change (another cluster, run, person, photo, an
 * edit) applies only the answers of its newest load; an older request that lands later is dropped instead of
 * overwriting what is on screen (the photo of the previous arrow press, the members of the person left a moment ago).
 *
 *   const loads = newest();
 *   async function load() { const current = loads.begin(); const r = await api.x(); if (!current()) return; ... }
 */
export interface Newest {
  /** Starts a request: the check it returns holds until another request begins. */
  begin(): () => boolean;
  /** The check for the newest request as it stands, without starting one (a patch applied only if no load began). */
  now(): () => boolean;
}

export function newest(): Newest {
  let n = 0;
  return {
    begin() { const mine = ++n; return () => mine === n; },
    now() { const mine = n; return () => mine === n; },
  };
}
