import { createHash } from 'node:crypto';
import {
  AddLayerVersionPermissionCommand,
  type FunctionConfiguration,
  GetFunctionCommand,
  GetFunctionConfigurationCommand,
  GetLayerVersionByArnCommand,
  GetLayerVersionCommand,
  InvalidParameterValueException,
  ListFunctionsCommand,
  ListLayerVersionsCommand,
  PreconditionFailedException,
  PublishLayerVersionCommand,
  ResourceConflictException,
  ResourceNotFoundException,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda';
import { ACCOUNT, REGION } from './aws-cli.js';

/**
 * A stateful fake of the Lambda control plane, behind aws-sdk-client-mock, that behaves as Lambda does
 * where the CLI's correctness depends on it (DESIGN.md §6, "Lambda's control plane"):
 * - an update leaves LastUpdateStatus `InProgress` for a while (here: a number of ticks; every read of
 *   a function and every injected sleep is one tick), and a second update meanwhile fails with
 *   ResourceConflictException;
 * - the RevisionId changes when an update is accepted and again when it completes, and an update
 *   carrying an old RevisionId fails with PreconditionFailedException;
 * - the function code and its layers, unzipped, may not exceed 250 MB (InvalidParameterValueException,
 *   with Lambda's wording), and every layer version ARN must exist;
 * - layer versions keep their description, CodeSha256 (base64 SHA-256 of the zip), runtimes and
 *   architectures; ListLayerVersions lists newest first, at most 50 per page (MaxItems), with NextMarker.
 */
export const MAX_UNZIPPED_BYTES = 262_144_000;
const LIST_PAGE_MAX = 50;

export interface FakeFunction {
  name: string;
  runtime: string | undefined;
  architecture: string;
  packageType: 'Zip' | 'Image';
  layers: string[];
  env: Record<string, string>;
  revision: number;
  lastUpdateStatus: 'Successful' | 'InProgress' | 'Failed';
  /** Ticks left until an update in progress completes. */
  ticksLeft: number;
  codeUnzippedBytes: number;
}

export interface FakeLayerVersion {
  readonly layerName: string;
  readonly version: number;
  readonly arn: string;
  readonly description: string | undefined;
  readonly codeSha256: string;
  readonly codeSize: number;
  readonly unzippedBytes: number;
  readonly compatibleRuntimes: readonly string[];
  readonly compatibleArchitectures: readonly string[];
  readonly permissions: Set<string>;
}

export interface FakeLambdaOptions {
  /** How many ticks an update stays InProgress (default 3). */
  readonly updateTicks?: number;
  /** The unzipped size of a published zip; default its own size (tests make it large to hit 250 MB). */
  readonly unzippedBytesOf?: (zip: Uint8Array, layerName: string) => number;
}

/** The part of aws-sdk-client-mock's stub the fake uses. */
interface MockRoutes {
  on(command: unknown): { callsFake(handle: (input: unknown) => unknown): unknown };
}

export function fakeLayerArn(name: string, version: number): string {
  return `arn:aws:lambda:${REGION}:${ACCOUNT}:layer:${name}:${version}`;
}

export class FakeLambda {
  readonly functions = new Map<string, FakeFunction>();
  readonly layers = new Map<string, FakeLayerVersion[]>();
  /** Every request the CLI made, in order: `['UpdateFunctionConfiguration', input]`. */
  readonly requests: Array<[string, Record<string, unknown>]> = [];
  private readonly updateTicks: number;
  private readonly unzippedBytesOf: (zip: Uint8Array, layerName: string) => number;

  constructor(options: FakeLambdaOptions = {}) {
    this.updateTicks = options.updateTicks ?? 3;
    this.unzippedBytesOf = options.unzippedBytesOf ?? ((zip) => zip.length);
  }

  /** Routes the Lambda commands of `mock` (what `mockClient(LambdaClient)` returns) to this fake. */
  install(mock: unknown): this {
    const stub = mock as unknown as MockRoutes;
    const route = <I>(name: string, command: unknown, handle: (input: I) => unknown) => {
      stub.on(command).callsFake((input: unknown) => {
        this.requests.push([name, input as Record<string, unknown>]);
        return handle(input as I);
      });
    };
    route('GetFunctionConfiguration', GetFunctionConfigurationCommand, (i: { FunctionName: string }) =>
      this.getFunctionConfiguration(i.FunctionName),
    );
    route('GetFunction', GetFunctionCommand, (i: { FunctionName: string }) => ({
      Configuration: this.getFunctionConfiguration(i.FunctionName),
    }));
    route(
      'UpdateFunctionConfiguration',
      UpdateFunctionConfigurationCommand,
      (i: Parameters<FakeLambda['update']>[0]) => this.update(i),
    );
    route('ListFunctions', ListFunctionsCommand, (i: { Marker?: string }) => this.listFunctions(i.Marker));
    route(
      'ListLayerVersions',
      ListLayerVersionsCommand,
      (i: Parameters<FakeLambda['listLayerVersions']>[0]) => this.listLayerVersions(i),
    );
    route('GetLayerVersion', GetLayerVersionCommand, (i: { LayerName: string; VersionNumber: number }) =>
      this.layerVersionOutput(this.findLayerVersion(i.LayerName, i.VersionNumber)),
    );
    route('GetLayerVersionByArn', GetLayerVersionByArnCommand, (i: { Arn: string }) =>
      this.layerVersionOutput(this.findLayerArn(i.Arn)),
    );
    route('PublishLayerVersion', PublishLayerVersionCommand, (i: Parameters<FakeLambda['publish']>[0]) =>
      this.publish(i),
    );
    route(
      'AddLayerVersionPermission',
      AddLayerVersionPermissionCommand,
      (i: Parameters<FakeLambda['addPermission']>[0]) => this.addPermission(i),
    );
    return this;
  }

  /** One unit of time: an update in progress gets closer to completion. */
  tick(): void {
    for (const fn of this.functions.values()) {
      if (fn.lastUpdateStatus !== 'InProgress') continue;
      fn.ticksLeft -= 1;
      if (fn.ticksLeft <= 0) {
        fn.lastUpdateStatus = 'Successful';
        fn.revision += 1;
      }
    }
  }

  /** A sleep for the CLI's deps: each wait is a tick. */
  readonly sleep = async (_ms: number): Promise<void> => {
    this.tick();
  };

  addFunction(name: string, init: Partial<Omit<FakeFunction, 'name'>> = {}): FakeFunction {
    const fn: FakeFunction = {
      name,
      runtime: 'nodejs22.x',
      architecture: 'arm64',
      packageType: 'Zip',
      layers: [],
      env: { APP_MODE: 'prod' },
      revision: 1,
      lastUpdateStatus: 'Successful',
      ticksLeft: 0,
      codeUnzippedBytes: 1_000_000,
      ...init,
    };
    this.functions.set(name, fn);
    return fn;
  }

  /** Another actor (a CI deploy) starts an update: InProgress, new RevisionId, settles after ticks. */
  startOutsideUpdate(name: string, change: (fn: FakeFunction) => void = () => {}): void {
    const fn = this.mustFunction(name);
    change(fn);
    this.beginUpdate(fn);
  }

  /** Adds a layer version as `publish` (or someone else) would have, returning its ARN. */
  addLayerVersion(
    layerName: string,
    init: {
      readonly zip?: Uint8Array;
      readonly description?: string;
      readonly compatibleRuntimes?: readonly string[];
      readonly compatibleArchitectures?: readonly string[];
      readonly unzippedBytes?: number;
    } = {},
  ): string {
    const zip = init.zip ?? Buffer.from(`some layer ${layerName}`);
    return this.storeLayerVersion(
      layerName,
      zip,
      init.description,
      init.compatibleRuntimes ?? [],
      init.compatibleArchitectures ?? [],
      init.unzippedBytes,
    ).arn;
  }

  layerVersions(layerName: string): readonly FakeLayerVersion[] {
    return this.layers.get(layerName) ?? [];
  }

  calls(name: string): Array<Record<string, unknown>> {
    return this.requests.filter(([n]) => n === name).map(([, input]) => input);
  }

  revisionId(fn: FakeFunction): string {
    return `rev-${fn.name}-${fn.revision}`;
  }

  private mustFunction(name: string): FakeFunction {
    const short = /:function:([^:]+)/.exec(name)?.[1] ?? name;
    const fn = this.functions.get(short);
    if (fn === undefined) {
      throw new ResourceNotFoundException({
        message: `Function not found: arn:aws:lambda:${REGION}:${ACCOUNT}:function:${short}`,
        $metadata: { httpStatusCode: 404 },
      });
    }
    return fn;
  }

  private getFunctionConfiguration(name: string): FunctionConfiguration {
    const fn = this.mustFunction(name);
    this.tick();
    return {
      FunctionName: fn.name,
      FunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn.name}`,
      ...(fn.runtime !== undefined ? { Runtime: fn.runtime as FunctionConfiguration['Runtime'] } : {}),
      Architectures: [fn.architecture as 'arm64' | 'x86_64'],
      PackageType: fn.packageType,
      Layers: fn.layers.map((arn) => ({ Arn: arn, CodeSize: this.findLayerArnOrUndefined(arn)?.codeSize })),
      Environment: { Variables: { ...fn.env } },
      RevisionId: this.revisionId(fn),
      State: 'Active',
      LastUpdateStatus: fn.lastUpdateStatus,
    };
  }

  private update(input: {
    FunctionName: string;
    RevisionId?: string;
    Layers?: string[];
    Environment?: { Variables?: Record<string, string> };
  }): FunctionConfiguration {
    const fn = this.mustFunction(input.FunctionName);
    if (fn.lastUpdateStatus === 'InProgress') {
      throw new ResourceConflictException({
        message: `The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:${REGION}:${ACCOUNT}:function:${fn.name}`,
        Type: 'User',
        $metadata: { httpStatusCode: 409 },
      });
    }
    if (input.RevisionId !== undefined && input.RevisionId !== this.revisionId(fn)) {
      throw new PreconditionFailedException({
        message:
          'The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id',
        Type: 'User',
        $metadata: { httpStatusCode: 412 },
      });
    }
    if (input.Layers !== undefined) {
      let total = fn.codeUnzippedBytes;
      for (const arn of input.Layers) {
        const layer = this.findLayerArnOrUndefined(arn);
        if (layer === undefined) {
          throw new InvalidParameterValueException({
            message: `Layer version ${arn} does not exist.`,
            Type: 'User',
            $metadata: { httpStatusCode: 400 },
          });
        }
        total += layer.unzippedBytes;
      }
      if (total > MAX_UNZIPPED_BYTES) {
        throw new InvalidParameterValueException({
          message: `Function code combined with layers exceeds the maximum allowed size of ${MAX_UNZIPPED_BYTES} bytes. The actual size is ${total} bytes.`,
          Type: 'User',
          $metadata: { httpStatusCode: 400 },
        });
      }
      fn.layers = [...input.Layers];
    }
    if (input.Environment !== undefined) fn.env = { ...(input.Environment.Variables ?? {}) };
    this.beginUpdate(fn);
    return { FunctionName: fn.name, RevisionId: this.revisionId(fn), LastUpdateStatus: 'InProgress' };
  }

  private beginUpdate(fn: FakeFunction): void {
    fn.revision += 1;
    fn.lastUpdateStatus = 'InProgress';
    fn.ticksLeft = this.updateTicks;
  }

  private listFunctions(marker: string | undefined) {
    const names = [...this.functions.keys()];
    const start = marker === undefined ? 0 : Number(marker);
    const page = names.slice(start, start + LIST_PAGE_MAX);
    const next = start + LIST_PAGE_MAX < names.length ? String(start + LIST_PAGE_MAX) : undefined;
    return { Functions: page.map((FunctionName) => ({ FunctionName })), NextMarker: next };
  }

  private listLayerVersions(input: {
    LayerName: string;
    MaxItems?: number;
    Marker?: string;
    CompatibleRuntime?: string;
    CompatibleArchitecture?: string;
  }) {
    const name = /:layer:([^:]+)$/.exec(input.LayerName)?.[1] ?? input.LayerName;
    const versions = [...(this.layers.get(name) ?? [])]
      .reverse()
      .filter(
        (v) =>
          (input.CompatibleRuntime === undefined || v.compatibleRuntimes.includes(input.CompatibleRuntime)) &&
          (input.CompatibleArchitecture === undefined ||
            v.compatibleArchitectures.includes(input.CompatibleArchitecture)),
      );
    const size = Math.min(input.MaxItems ?? LIST_PAGE_MAX, LIST_PAGE_MAX);
    const start = input.Marker === undefined ? 0 : Number(input.Marker);
    const page = versions.slice(start, start + size);
    return {
      LayerVersions: page.map((v) => ({
        LayerVersionArn: v.arn,
        Version: v.version,
        Description: v.description,
        CompatibleRuntimes: [...v.compatibleRuntimes],
        CompatibleArchitectures: [...v.compatibleArchitectures],
      })),
      ...(start + size < versions.length ? { NextMarker: String(start + size) } : {}),
    };
  }

  private findLayerVersion(layerName: string, version: number): FakeLayerVersion {
    const found = this.layers.get(layerName)?.find((v) => v.version === version);
    if (found === undefined) {
      throw new ResourceNotFoundException({
        message: 'The resource you requested does not exist.',
        $metadata: { httpStatusCode: 404 },
      });
    }
    return found;
  }

  private findLayerArnOrUndefined(arn: string): FakeLayerVersion | undefined {
    for (const versions of this.layers.values()) {
      const found = versions.find((v) => v.arn === arn);
      if (found !== undefined) return found;
    }
    return undefined;
  }

  private findLayerArn(arn: string): FakeLayerVersion {
    const found = this.findLayerArnOrUndefined(arn);
    if (found === undefined) {
      throw new ResourceNotFoundException({
        message: 'The resource you requested does not exist.',
        $metadata: { httpStatusCode: 404 },
      });
    }
    return found;
  }

  private layerVersionOutput(v: FakeLayerVersion) {
    return {
      LayerArn: v.arn.replace(/:\d+$/, ''),
      LayerVersionArn: v.arn,
      Version: v.version,
      Description: v.description,
      Content: { CodeSha256: v.codeSha256, CodeSize: v.codeSize },
      CompatibleRuntimes: [...v.compatibleRuntimes],
      CompatibleArchitectures: [...v.compatibleArchitectures],
    };
  }

  private publish(input: {
    LayerName: string;
    Description?: string;
    Content?: { ZipFile?: Uint8Array; S3Bucket?: string; S3Key?: string };
    CompatibleRuntimes?: string[];
    CompatibleArchitectures?: string[];
  }) {
    const zip =
      input.Content?.ZipFile ?? Buffer.from(`s3://${input.Content?.S3Bucket}/${input.Content?.S3Key}`);
    const stored = this.storeLayerVersion(
      input.LayerName,
      zip,
      input.Description,
      input.CompatibleRuntimes ?? [],
      input.CompatibleArchitectures ?? [],
      undefined,
    );
    return this.layerVersionOutput(stored);
  }

  private storeLayerVersion(
    layerName: string,
    zip: Uint8Array,
    description: string | undefined,
    compatibleRuntimes: readonly string[],
    compatibleArchitectures: readonly string[],
    unzippedBytes: number | undefined,
  ): FakeLayerVersion {
    const versions = this.layers.get(layerName) ?? [];
    const version = (versions.at(-1)?.version ?? 0) + 1;
    const stored: FakeLayerVersion = {
      layerName,
      version,
      arn: fakeLayerArn(layerName, version),
      description,
      codeSha256: createHash('sha256').update(zip).digest('base64'),
      codeSize: zip.length,
      unzippedBytes: unzippedBytes ?? this.unzippedBytesOf(zip, layerName),
      compatibleRuntimes,
      compatibleArchitectures,
      permissions: new Set(),
    };
    versions.push(stored);
    this.layers.set(layerName, versions);
    return stored;
  }

  private addPermission(input: { LayerName: string; VersionNumber: number; StatementId: string }) {
    const v = this.findLayerVersion(input.LayerName, input.VersionNumber);
    if (v.permissions.has(input.StatementId)) {
      throw new ResourceConflictException({
        message: `The statement id (${input.StatementId}) provided already exists.`,
        $metadata: { httpStatusCode: 409 },
      });
    }
    v.permissions.add(input.StatementId);
    return { Statement: '{}', RevisionId: 'perm-1' };
  }
}
