/** A scan's report in words, the same in the CLI, the job's error and the app. */
import type { VanishedFolder } from './types.ts';

/** "F (no longer exists): its 200 photos were left as they were" for each folder that could not be opened, in one sentence. */
export function vanishedWords(v: VanishedFolder[]): string {
  return v.map((f) => `${f.path} (${f.reason}): its ${f.photos.toLocaleString('en')} photo${f.photos === 1 ? ' was' : 's were'} left as they were`).join('; ');
}
