import { BUNDLE_FILE_NAME } from './bundle.js';
import { EXTENSION_NAME } from './targets.js';

/** Path of the launcher inside the layer: Lambda starts every executable in /opt/extensions. */
export const LAUNCHER_PATH = `extensions/${EXTENSION_NAME}`;
/** Directory of the bundle (and of the standalone flavor's Node binary) inside the layer. */
export const PAYLOAD_DIR = EXTENSION_NAME;
export const NODE_BINARY_PATH = `${PAYLOAD_DIR}/node`;
/** The al2 flavor's runtime: Bun, for Amazon Linux 2 (glibc 2.26), where official Node cannot run. */
export const BUN_BINARY_PATH = `${PAYLOAD_DIR}/bun`;
export const BUNDLE_PATH = `${PAYLOAD_DIR}/${BUNDLE_FILE_NAME}`;

/** Node of the function's own runtime on Lambda's Node.js runtimes (what the slim flavor uses). */
export const RUNTIME_NODE_PATH = '/var/lang/bin/node';

/** V8's limits for the extension in a function of this memory size: the launcher's rule, in TypeScript. */
export interface HeapLimits {
  /** --max-old-space-size, MB: a quarter of the function's memory. */
  readonly oldSpaceMb: number;
  /** --max-semi-space-size, MB: a 64th of the memory, 1 to 16 (V8's young generation is 3 of them). */
  readonly semiSpaceMb: number;
}

export const OLD_SPACE_MEMORY_DIVISOR = 4;
export const SEMI_SPACE_MEMORY_DIVISOR = 64;
export const SEMI_SPACE_MB_MIN = 1;
export const SEMI_SPACE_MB_MAX = 16;

export function heapLimitsFor(functionMemoryMb: number): HeapLimits {
  const semiSpaceMb = Math.floor(functionMemoryMb / SEMI_SPACE_MEMORY_DIVISOR);
  return {
    oldSpaceMb: Math.floor(functionMemoryMb / OLD_SPACE_MEMORY_DIVISOR),
    semiSpaceMb: Math.min(SEMI_SPACE_MB_MAX, Math.max(SEMI_SPACE_MB_MIN, semiSpaceMb)),
  };
}

/** Node's flags for those limits. */
export function heapFlagsFor(functionMemoryMb: number): string[] {
  const { oldSpaceMb, semiSpaceMb } = heapLimitsFor(functionMemoryMb);
  return [`--max-old-space-size=${oldSpaceMb}`, `--max-semi-space-size=${semiSpaceMb}`];
}

/**
 * The launcher: a POSIX sh script, so it needs nothing but /bin/sh (present on every Lambda runtime,
 * including provided.al2023). It finds the layer root from its own path with parameter expansion
 * rather than `dirname`, prefers the bundled Node, then the runtime's, and `exec`s so that Lambda's
 * SIGTERM/SIGKILL reach Node directly. NODE_OPTIONS is the function's setting (e.g. `--require` of a
 * tracer), not ours, so it is cleared for the extension. Node sizes its heap from the machine, not
 * from the sandbox, so V8 gets limits from AWS_LAMBDA_FUNCTION_MEMORY_SIZE (heapLimitsFor): it then
 * collects before the function's memory runs out.
 */
export const LAUNCHER_SCRIPT = `#!/bin/sh
# ${EXTENSION_NAME}: starts the ${EXTENSION_NAME} Lambda extension with a Node.js binary.
case "$0" in
  */*) extensions_dir=\${0%/*} ;;
  *) extensions_dir=. ;;
esac
layer_dir="$extensions_dir/.."
unset NODE_OPTIONS
# V8 heap limits from the function's memory (MB): old space 1/${OLD_SPACE_MEMORY_DIVISOR}, semi-space 1/${SEMI_SPACE_MEMORY_DIVISOR} (${SEMI_SPACE_MB_MIN} to ${SEMI_SPACE_MB_MAX}).
heap_flags=
case "\${AWS_LAMBDA_FUNCTION_MEMORY_SIZE:-}" in
  ''|0*|*[!0-9]*) ;;
  *)
    semi_space_mb=$((AWS_LAMBDA_FUNCTION_MEMORY_SIZE / ${SEMI_SPACE_MEMORY_DIVISOR}))
    if [ "$semi_space_mb" -lt ${SEMI_SPACE_MB_MIN} ]; then semi_space_mb=${SEMI_SPACE_MB_MIN}; fi
    if [ "$semi_space_mb" -gt ${SEMI_SPACE_MB_MAX} ]; then semi_space_mb=${SEMI_SPACE_MB_MAX}; fi
    heap_flags="--max-old-space-size=$((AWS_LAMBDA_FUNCTION_MEMORY_SIZE / ${OLD_SPACE_MEMORY_DIVISOR})) --max-semi-space-size=$semi_space_mb"
    ;;
esac
if [ -x "$layer_dir/${BUN_BINARY_PATH}" ]; then
  # Bun (JavaScriptCore) takes no V8 flags; --smol makes it collect more often, for a small heap.
  exec "$layer_dir/${BUN_BINARY_PATH}" --smol "$layer_dir/${BUNDLE_PATH}" "$@"
fi
if [ -x "$layer_dir/${NODE_BINARY_PATH}" ]; then
  exec "$layer_dir/${NODE_BINARY_PATH}" $heap_flags "$layer_dir/${BUNDLE_PATH}" "$@"
fi
if [ -x ${RUNTIME_NODE_PATH} ]; then
  exec ${RUNTIME_NODE_PATH} $heap_flags "$layer_dir/${BUNDLE_PATH}" "$@"
fi
echo "${EXTENSION_NAME}: no Node.js found (neither the layer's ${NODE_BINARY_PATH} nor ${RUNTIME_NODE_PATH}); the slim layer needs a Node.js runtime, use the standalone layer on other runtimes" >&2
exit 127
`;
