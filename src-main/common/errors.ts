/** Error codes that cross every transport as `{code, message}`. */
export type ErrorCode =
  | 'BAD_ARGUMENT'
  | 'NOT_FOUND'
  | 'NOT_A_LIBRARY'
  | 'LIBRARY_TOO_NEW'
  | 'LIBRARY_LOCKED'
  | 'LIBRARY_CORRUPT'
  | 'BAD_IMAGE'
  | 'BAD_MODEL'
  | 'MODEL_MISSING'
  | 'BAD_FILE'
  | 'CANCELLED'
  | 'UNAUTHORIZED'
  | 'CONFLICT'
  | 'IO'
  | 'INTERNAL';

export const ERROR_CODES: readonly ErrorCode[] = [
  'BAD_ARGUMENT', 'NOT_FOUND', 'NOT_A_LIBRARY', 'LIBRARY_TOO_NEW', 'LIBRARY_LOCKED', 'LIBRARY_CORRUPT', 'BAD_IMAGE', 'BAD_MODEL',
  'MODEL_MISSING', 'BAD_FILE', 'CANCELLED', 'UNAUTHORIZED', 'CONFLICT', 'IO', 'INTERNAL',
];

/** A code from the wire as an ErrorCode (anything else is INTERNAL: codes never cross as free strings). */
export function asErrorCode(code: unknown): ErrorCode {
  return typeof code === 'string' && (ERROR_CODES as readonly string[]).includes(code) ? (code as ErrorCode) : 'INTERNAL';
}

export interface ErrorPayload {
  code: ErrorCode;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.code = code;
    this.name = 'AppError';
  }
  toPayload(): ErrorPayload {
    return { code: this.code, message: this.message };
  }
}

/** Shorthand for a bad parameter: names the parameter and what was wrong. */
export function badArg(param: string, why: string): AppError {
  return new AppError('BAD_ARGUMENT', `${param}: ${why}`);
}

export function toPayload(err: unknown): ErrorPayload {
  if (err instanceof AppError) return err.toPayload();
  if (err && typeof err === 'object' && 'code' in err && 'message' in err) {
    const e = err as { code: unknown; message: unknown };
    if (typeof e.code === 'string' && typeof e.message === 'string' && /^[A-Z_]+$/.test(e.code)) {
      return { code: e.code as ErrorCode, message: e.message };
    }
  }
  const message = err instanceof Error ? err.message : String(err);
  return { code: 'INTERNAL', message };
}

export function fromPayload(p: ErrorPayload): AppError {
  return new AppError(p.code, p.message);
}
