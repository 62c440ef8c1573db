import { resolve } from 'node:path';
import type { Ora } from 'ora';
import { type CliIo, ExitCode } from '../io.js';
import type { LayerBuilder } from '../layer/builder.js';
import { OutDirError } from '../layer/errors.js';
import { NodeDownloadError, NodeIntegrityError } from '../layer/node-binary.js';
import { ARCHES, FLAVORS } from '../layer/targets.js';
import { builtLayersDocument, renderBuiltLayers } from '../render/build.js';
import { createOutput } from '../render/output.js';
import { collect, parseArches, parseFlavors } from './choices.js';
import type { RegisterCommand } from './register.js';

export const OUT_DIR_DEFAULT = 'dist/layers';

interface BuildFlags {
  readonly arch?: string[];
  readonly flavor?: string[];
  readonly outDir: string;
  readonly cacheDir?: string;
  readonly json?: boolean;
}

/**
 * A spinner only on a terminal whose width is known and not 0 (ora redraws by counting wrapped lines,
 * and with 0 columns it wrote escape codes without end, hundreds of MB), and not where ora itself would
 * refuse one (CI, TERM=dumb). Decided here from the injected environment, so ora is never forced on.
 */
export function canSpin(
  stream: { readonly isTTY?: boolean; readonly columns?: number },
  env: Readonly<Record<string, string | undefined>> = {},
): boolean {
  return (
    stream.isTTY === true &&
    typeof stream.columns === 'number' &&
    stream.columns > 0 &&
    env.CI === undefined &&
    env.TERM !== 'dumb'
  );
}

async function runBuild(flags: BuildFlags, io: CliIo, buildLayers: LayerBuilder): Promise<number> {
  const out = createOutput(io, 'build', flags.json === true);
  const problems: string[] = [];
  const arches = parseArches(flags.arch, problems) ?? [];
  const flavors = parseFlavors(flags.flavor, problems) ?? [];
  if (problems.length > 0) {
    for (const problem of problems) out.error(problem);
    return ExitCode.usage;
  }
  let spinner: Ora | undefined;
  if (canSpin(io.stdout, io.env) && flags.json !== true) {
    // Loaded here, only for a spinner; it leaves stdin alone so that Ctrl-C keeps working.
    const { default: ora } = await import('ora');
    spinner = ora({
      stream: io.stdout,
      isEnabled: true,
      discardStdin: false,
      text: 'Building the layers',
    }).start();
  }
  try {
    const layers = await buildLayers({
      arches: arches.length > 0 ? arches : ARCHES,
      flavors: flavors.length > 0 ? flavors : FLAVORS,
      outDir: resolve(io.cwd, flags.outDir),
      ...(flags.cacheDir ? { cacheDir: resolve(io.cwd, flags.cacheDir) } : {}),
      onProgress: (message) => {
        if (spinner) spinner.text = message;
      },
    });
    spinner?.stop();
    if (out.json) out.document(builtLayersDocument(layers));
    else out.human(renderBuiltLayers(layers, io.cwd));
    return ExitCode.ok;
  } catch (error) {
    spinner?.stop();
    if (error instanceof OutDirError) {
      out.error(error.message);
      return ExitCode.usage;
    }
    if (error instanceof NodeDownloadError || error instanceof NodeIntegrityError) {
      out.error(error.message);
      return ExitCode.failure;
    }
    throw error;
  }
}

export const registerBuildCommand: RegisterCommand<[LayerBuilder]> = (
  program,
  io,
  setExitCode,
  buildLayers,
) => {
  program
    .command('build')
    .description('bundle the extension and write the layer zips (no AWS account needed)')
    .option(
      '--arch <arch>',
      `architecture to build: ${ARCHES.join(' or ')} (repeatable; default: both)`,
      collect,
    )
    .option(
      '--flavor <flavor>',
      'slim (Node.js runtimes, uses their Node) or standalone (any runtime, ships Node) (repeatable; default: both)',
      collect,
    )
    .option('--out-dir <dir>', 'directory for loki-lambda-<flavor>-<arch>.zip', OUT_DIR_DEFAULT)
    .option(
      '--cache-dir <dir>',
      'where downloaded Node.js tarballs are kept (default: your user cache directory)',
    )
    .option('--json', 'print one JSON document describing the zips, and no progress')
    .action(async (flags: BuildFlags) => {
      setExitCode(await runBuild(flags, io, buildLayers));
    });
};
