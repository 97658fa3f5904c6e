/** Which recorded scan failures the next scan (or `retryFailed`) tries again. No Node, no sharp: cheap to import. */

/** Reasons that come from the file system or the cache, not from the file's content: the next scan tries again. */
export function isRetryableReason(reason: string): boolean {
  return !/^(not a readable image|cannot decode image|image too large|empty file|cannot read file: file too large)/.test(reason);
}
