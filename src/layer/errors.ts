/** The output directory cannot be created or written: a usage error (exit 2). */
export class OutDirError extends Error {
  override readonly name = 'OutDirError';
}
