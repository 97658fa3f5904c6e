/** Model runtime: public API for workers and the CLI. */
export { PhotoEmbedder, PHOTO_MODEL_NAME, PHOTO_DIM, PHOTO_MODEL_VERSION, PHOTO_CLASSES, PHOTO_INPUT_SIZE } from './photo.ts';
export { FaceEmbedder, FACE_MODEL_NAME, FACE_DIM, FACE_MODEL_VERSION, type FaceOptions, type FaceResult, type FaceBox } from './face.ts';
// the model build (prepareModels) is a tool: tools/models/prepare.ts, run by `prepare-models` in its own process
export { verifyModel, defaultModelsDir, MODEL_FILES, RESTORE_HINT, type BuiltinModelName, type ModelStatus } from './files.ts';
export { loadManifestModel, validateManifest, ManifestModel, type ModelManifest } from './manifest.ts';
export { MODEL_CATALOG, catalogEntry, catalogUrl, type CatalogEntry } from './catalog.ts';
export { downloadModel, type DownloadOptions, type DownloadResult } from './download.ts';
export { decodeRgb, preprocessPhoto, type ImageInput, type RgbImage } from './image.ts';
export { type RuntimeOptions } from './session.ts';
