// For checkJs over e2e/*.mjs (e2e/tsconfig.json): what the tests read in the page without casts.
declare global {
  // the pages hang their probes and fixtures on window (window.at, window.Atlas, ...)
  interface Window { [name: string]: any }
  // page.$eval hands an Element; the tests read these of the HTML elements they select (inputs, images, the atlas)
  interface Element {
    readonly dataset: DOMStringMap;
    value: string;
    disabled: boolean;
    title: string;
    readonly complete: boolean;
    readonly naturalWidth: number;
    atlas?: any;
  }
}
export {};
