import { stat } from 'node:fs/promises';
import { basename, isAbsolute, join } from 'node:path';
import type { AwsDeps } from '../aws/deps.js';
import { ZipTooLargeError } from '../aws/errors.js';
import type { LayerZip } from '../aws/layer-versions.js';
import { firstDefined } from '../config-file.js';
import { type CliIo, ExitCode } from '../io.js';
import {
  ARCHES,
  type Arch,
  DIRECT_UPLOAD_LIMIT_BYTES,
  FLAVORS,
  type Flavor,
  LAYER_NAME_DEFAULT,
  runtimesFor,
} from '../layer/targets.js';
import { renderAwsError } from '../render/aws-errors.js';
import { createOutput } from '../render/output.js';
import { publishToJson, renderGrant, renderPublished } from '../render/publish.js';
import { VERSION } from '../version.js';
import {
  addCommonOptions,
  addGrantOptions,
  type CommonOptions,
  createContext,
  type GrantOptions,
  grantsFrom,
  prepareAws,
} from './aws-options.js';
import { collect, parseArches, parseFlavors } from './choices.js';
import type { RegisterCommand } from './register.js';

interface PublishOptions extends CommonOptions, GrantOptions {
  readonly layerName?: string;
  readonly arch?: string[];
  readonly flavor?: string[];
  readonly zip?: string;
  readonly s3Bucket?: string;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

const ZIP_NAME = /loki-lambda-(slim|standalone)-(x86_64|arm64)\.zip$/;

export const registerPublishCommand: RegisterCommand<[AwsDeps]> = (program, io, setExitCode, deps) => {
  const command = program
    .command('publish')
    .description('publish the layer zip as a Lambda layer version (reuses an identical one)')
    .option(
      '--layer-name <name>',
      `base layer name; versions go to <name>-<flavor>-<arch> (default: ${LAYER_NAME_DEFAULT})`,
    )
    .option('--arch <arch>', `${ARCHES.join(' or ')}, repeatable (default: both)`, collect)
    .option('--flavor <flavor>', `${FLAVORS.join(' or ')}, repeatable (default: both)`, collect)
    .option(
      '--zip <file>',
      'publish this zip instead of building (flavor and arch from its name or the flags)',
    )
    .option('--s3-bucket <bucket>', 'stage zips over 50 MiB in this bucket (same region)');
  addGrantOptions(command);
  addCommonOptions(command).action(async (options: PublishOptions) => {
    setExitCode(await publishCommand(io, options, deps));
  });
};

async function publishCommand(io: CliIo, options: PublishOptions, deps: AwsDeps): Promise<number> {
  const out = createOutput(io, 'publish', options.json ?? false);
  const prepared = await prepareAws(io, out, options, []);
  if (!prepared.ok) return ExitCode.usage;
  const { file } = prepared;
  const problems: string[] = [];
  const arches = parseArches(options.arch ?? file.arch, problems);
  const flavors = parseFlavors(options.flavor ?? file.flavor, problems);
  const grants = grantsFrom(options, file, problems);
  const baseName = firstDefined(options.layerName, file.layerName) ?? LAYER_NAME_DEFAULT;
  const s3Bucket = firstDefined(options.s3Bucket, file.s3Bucket);
  let given: { path: string; flavor: Flavor; arch: Arch } | undefined;
  if (options.zip !== undefined) {
    const fromName = ZIP_NAME.exec(basename(options.zip));
    const flavor = flavors?.length === 1 ? flavors[0] : (fromName?.[1] as Flavor | undefined);
    const arch = arches?.length === 1 ? arches[0] : (fromName?.[2] as Arch | undefined);
    if (flavor === undefined || arch === undefined) {
      problems.push('with --zip, give one --flavor and one --arch (or use the file name build writes)');
    } else {
      given = { path: isAbsolute(options.zip) ? options.zip : join(io.cwd, options.zip), flavor, arch };
    }
    const path = isAbsolute(options.zip) ? options.zip : join(io.cwd, options.zip);
    if (!(await isFile(path))) problems.push(`--zip ${options.zip}: no such file (${path})`);
  }
  if (problems.length > 0) {
    for (const problem of problems) out.error(problem);
    return ExitCode.usage;
  }

  // Loaded here, with the AWS SDK, so that `--help` and the other commands start without it.
  const { layerDescription, layerNameFor } = await import('../aws/functions-workflow.js');
  const { describeZipFile, grantLayerAccess, publishLayerZip } = await import('../aws/layer-versions.js');
  const ctx = await createContext(deps, prepared, out);
  const results: ReturnType<typeof publishToJson>[] = [];
  try {
    const zips: readonly LayerZip[] =
      given !== undefined
        ? [await describeZipFile(given.path, given.flavor, given.arch)]
        : await deps.buildLayers({
            arches: arches ?? ARCHES,
            flavors: flavors ?? FLAVORS,
            onProgress: (message) => out.progress(`${message}\n`),
          });
    // Say what needs S3 before publishing anything, so a run never stops half-way for that.
    const tooLarge = zips.find((zip) => zip.sizeBytes > DIRECT_UPLOAD_LIMIT_BYTES);
    if (tooLarge !== undefined && s3Bucket === undefined) {
      throw new ZipTooLargeError(tooLarge.path, tooLarge.sizeBytes, DIRECT_UPLOAD_LIMIT_BYTES);
    }
    for (const zip of zips) {
      const request = {
        layerName: layerNameFor(baseName, zip.flavor, zip.arch),
        zip,
        compatibleRuntimes: runtimesFor(zip.flavor),
        description: layerDescription(VERSION, zip.flavor, zip.arch),
        s3Bucket,
      };
      const outcome = await publishLayerZip(ctx.lambda, ctx.getS3, request, ctx.onUpload);
      out.human(renderPublished(zip, outcome));
      const granted = await grantLayerAccess(ctx.lambda, outcome.layerName, outcome.version, grants);
      for (const grant of granted) out.human(renderGrant(grant));
      results.push(publishToJson(request, outcome, granted));
    }
  } catch (error) {
    out.error(renderAwsError(error));
    if (out.json) out.document({ layers: results, error: renderAwsError(error) });
    return ExitCode.failure;
  }
  if (out.json) out.document({ layers: results });
  return ExitCode.ok;
}
