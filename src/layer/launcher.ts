import { BUNDLE_FILE_NAME } from './bundle.js';
import { EXTENSION_NAME } from './targets.js';

/** Path of the launcher inside the layer: Lambda starts every executable in /opt/extensions. */
export const LAUNCHER_PATH = `extensions/${EXTENSION_NAME}`;
/** Directory of the bundle (and of the standalone flavor's Node binary) inside the layer. */
export const PAYLOAD_DIR = EXTENSION_NAME;
export const NODE_BINARY_PATH = `${PAYLOAD_DIR}/node`;
export const BUNDLE_PATH = `${PAYLOAD_DIR}/${BUNDLE_FILE_NAME}`;

/** Node of the function's own runtime on Lambda's Node.js runtimes (what the slim flavor uses). */
export const RUNTIME_NODE_PATH = '/var/lang/bin/node';

/**
 * The launcher: a POSIX sh script, so it needs nothing but /bin/sh (present on every Lambda runtime,
 * including provided.al2023). It finds the layer root from its own path with parameter expansion
 * rather than `dirname`, prefers the bundled Node, then the runtime's, and `exec`s so that Lambda's
 * SIGTERM/SIGKILL reach Node directly. NODE_OPTIONS is the function's setting (e.g. `--require` of a
 * tracer), not ours, so it is cleared for the extension.
 */
export const LAUNCHER_SCRIPT = `#!/bin/sh
# ${EXTENSION_NAME}: starts the ${EXTENSION_NAME} Lambda extension with a Node.js binary.
case "$0" in
  */*) extensions_dir=\${0%/*} ;;
  *) extensions_dir=. ;;
esac
layer_dir="$extensions_dir/.."
unset NODE_OPTIONS
if [ -x "$layer_dir/${NODE_BINARY_PATH}" ]; then
  exec "$layer_dir/${NODE_BINARY_PATH}" "$layer_dir/${BUNDLE_PATH}" "$@"
fi
if [ -x ${RUNTIME_NODE_PATH} ]; then
  exec ${RUNTIME_NODE_PATH} "$layer_dir/${BUNDLE_PATH}" "$@"
fi
echo "${EXTENSION_NAME}: no Node.js found (neither the layer's ${NODE_BINARY_PATH} nor ${RUNTIME_NODE_PATH}); the slim layer needs a Node.js runtime, use the standalone layer on other runtimes" >&2
exit 127
`;
