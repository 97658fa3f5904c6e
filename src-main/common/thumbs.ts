/**
 * Thumbnail keys and their URL route, the one definition (core/thumb-path.ts maps a key to its file in the cache;
 * the server and the desktop protocol parse the route with `thumbKeyOfRoute`). Pure: no Node.
 * A key is a photo's content hash (16-64 hex digits), or `<hash>-f<k>` for the k-th face crop found in it.
 */
export const THUMB_KEY = /^[0-9a-f]{16,64}(?:-f\d+)?$/;
const ROUTE = /^\/thumb\/([0-9a-f]{16,64}(?:-f\d+)?)\.jpg$/;

export function isThumbKey(key: unknown): key is string {
  return typeof key === 'string' && THUMB_KEY.test(key);
}

/** The key of the k-th face crop of a photo. */
export function faceThumbKey(photoHash: string, k: number): string {
  return `${photoHash}-f${k}`;
}

/** The route of a thumbnail under an app's base (`thumb/<key>.jpg`). */
export function thumbRoute(key: string): string {
  return `thumb/${key}.jpg`;
}

/** The key a URL path (`/thumb/<key>.jpg`) names, or null. */
export function thumbKeyOfRoute(pathname: string): string | null {
  return ROUTE.exec(pathname)?.[1] ?? null;
}

/**
 * Viewer-size previews: a photo rendered once at most PREVIEW_SIZE px on its long side, EXIF-rotated like
 * the face boxes, keyed by the photo's content hash (never a path: only photos of the library can be named).
 */
export const PREVIEW_SIZE = 1600;
const PREVIEW_ROUTE = /^\/preview\/([0-9a-f]{16,64})\.jpg$/;
const PHOTO_HASH = /^[0-9a-f]{16,64}$/;

export function isPhotoHash(hash: unknown): hash is string {
  return typeof hash === 'string' && PHOTO_HASH.test(hash);
}

/** The route of a photo's preview under an app's base (`preview/<hash>.jpg`). */
export function previewRoute(hash: string): string {
  return `preview/${hash}.jpg`;
}

/** The photo hash a URL path (`/preview/<hash>.jpg`) names, or null. */
export function previewHashOfRoute(pathname: string): string | null {
  return PREVIEW_ROUTE.exec(pathname)?.[1] ?? null;
}
