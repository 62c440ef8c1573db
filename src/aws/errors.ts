/** The AWS error name (`ResourceNotFoundException`, …) of anything thrown, or '' when it has none. */
export function awsErrorName(error: unknown): string {
  if (typeof error === 'object' && error !== null && 'name' in error && typeof error.name === 'string') {
    return error.name;
  }
  return '';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A zip over Lambda's direct-upload limit and no S3 bucket to stage it in. */
export class ZipTooLargeError extends Error {
  constructor(
    readonly path: string,
    readonly sizeBytes: number,
    readonly limitBytes: number,
  ) {
    super(`${path} is ${sizeBytes} bytes, over the ${limitBytes}-byte direct upload limit`);
    this.name = 'ZipTooLargeError';
  }
}

/** The function update finished but Lambda reports it failed, or it never finished in time. */
export class FunctionUpdateFailedError extends Error {
  constructor(
    readonly functionName: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`the update of ${functionName} did not succeed: ${reason}`, options);
    this.name = 'FunctionUpdateFailedError';
  }
}
