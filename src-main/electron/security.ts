/**
 * The desktop app's security settings as plain data and pure functions (no Electron import), so that they are
 * unit-tested without the Electron binary: the window's webPreferences, the CSP, which URLs the window may navigate to,
 * which frames may call the API, and how the custom protocol maps a URL to a file (renderer files and cached
 * thumbnails only; traversal refused).
 */
import { normalize, resolve, sep } from 'node:path';
import { previewHashOfRoute, thumbKeyOfRoute } from '../common/thumbs.ts';

export const SCHEME = 'constellate';
export const ORIGIN = `${SCHEME}://app`;

export const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

/** The BrowserWindow's webPreferences: isolated, sandboxed, no Node, web security on. */
export function webPreferences(preload: string) {
  return {
    preload, contextIsolation: true, sandbox: true, nodeIntegration: false, nodeIntegrationInWorker: false, nodeIntegrationInSubFrames: false,
    webSecurity: true, allowRunningInsecureContent: false, webviewTag: false, spellcheck: false,
  } as const;
}

/** Navigation and redirects stay inside the app's own origin. */
export function isAppUrl(url: string): boolean {
  let u: URL;
  try { u = new URL(url); } catch { return false; }
  return u.protocol === `${SCHEME}:` && u.host === 'app' && url.startsWith(`${ORIGIN}/`);
}

export type ProtocolTarget =
  | { kind: 'thumb'; key: string }
  | { kind: 'preview'; hash: string }
  | { kind: 'file'; file: string }
  | { kind: 'none' };

/**
 * What a `constellate://app/...` URL serves: a thumbnail key (the caller maps it into the cache with Library.thumbPath)
 * or a file inside `rendererDir`; anything else (other hosts, traversal, bad encodings, NUL) is 'none'.
 */
export function resolveProtocolUrl(rawUrl: string, rendererDir: string): ProtocolTarget {
  let url: URL;
  try { url = new URL(rawUrl); } catch { return { kind: 'none' }; }
  if (url.protocol !== `${SCHEME}:` || url.host !== 'app') return { kind: 'none' };
  const thumb = thumbKeyOfRoute(url.pathname);
  if (thumb) return { kind: 'thumb', key: thumb };
  const preview = previewHashOfRoute(url.pathname);
  if (preview) return { kind: 'preview', hash: preview };
  let rel: string;
  try { rel = url.pathname === '/' ? '/index.html' : decodeURIComponent(url.pathname); } catch { return { kind: 'none' }; }
  if (rel.includes('\0') || rel.includes('\\')) return { kind: 'none' };
  const root = resolve(rendererDir);
  const file = resolve(root, '.' + normalize('/' + rel));
  if (!file.startsWith(root + sep)) return { kind: 'none' };
  return { kind: 'file', file };
}
