// Errors the user can act on (bad image, bad model package, bad argument) are UserErrors: the CLI
// prints their message as one line and exits 2, the extension shows it as a notification. Anything
// else is a bug and keeps its stack.

export type UserErrorCode =
  | 'IMAGE_NOT_FOUND'
  | 'IMAGE_UNREADABLE'
  | 'IMAGE_CORRUPT'
  | 'IMAGE_UNSUPPORTED'
  | 'IMAGE_TOO_LARGE'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_MISSING_FILE'
  | 'MODEL_EXTRA_FILE'
  | 'MODEL_SYMLINK'
  | 'MODEL_NOT_A_FILE'
  | 'MODEL_BAD_MANIFEST'
  | 'MODEL_UNSUPPORTED_VERSION'
  | 'MODEL_SHAPE_MISMATCH'
  | 'MODEL_BAD_GRAPH'
  | 'MODEL_CUSTOM_OP'
  | 'MODEL_BAD_CODEBOOKS'
  | 'MODEL_NO_GENERATOR'
  | 'PROVIDER_UNAVAILABLE'
  | 'FOLDER_NOT_FOUND'
  | 'FOLDER_EMPTY'
  | 'BAD_ARGUMENT'
  | 'CANCELLED';

export class UserError extends Error {
  constructor(
    readonly code: UserErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new UserError('CANCELLED', 'cancelled');
}
