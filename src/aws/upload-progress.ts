import { Readable } from 'node:stream';

/** Bytes of a request body sent so far, and in all. */
export type UploadProgress = (sentBytes: number, totalBytes: number) => void;

/** Chunks the body is handed to the socket in: small enough for a progress line to move. */
const CHUNK_BYTES = 256 * 1024;

interface MiddlewareStackLike {
  add(middleware: unknown, options: { step: 'deserialize'; priority: 'low'; name: string }): void;
}

/**
 * Reports how much of a command's request body has gone to the socket. Added innermost (after
 * signing and retries), so each attempt streams the signed bytes afresh and counts from zero.
 */
export function reportUploadProgress(
  command: { readonly middlewareStack: MiddlewareStackLike },
  onProgress: UploadProgress,
): void {
  command.middlewareStack.add(
    (next: (args: { request: unknown }) => Promise<unknown>) => async (args: { request: unknown }) => {
      const request = args.request as { body?: unknown };
      const body = request.body;
      if (typeof body === 'string' || body instanceof Uint8Array) {
        request.body = countingStream(typeof body === 'string' ? Buffer.from(body) : body, onProgress);
      }
      return next(args);
    },
    { step: 'deserialize', priority: 'low', name: 'lokiLambdaUploadProgress' },
  );
}

function countingStream(bytes: Uint8Array, onProgress: UploadProgress): Readable {
  let sent = 0;
  return Readable.from(
    (function* chunks() {
      for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
        const chunk = bytes.subarray(at, at + CHUNK_BYTES);
        yield chunk;
        sent += chunk.length;
        onProgress(sent, bytes.length);
      }
    })(),
  );
}
