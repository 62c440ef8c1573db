import { GetLayerVersionByArnCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { ARCHES, type Arch, FLAVORS, type Flavor } from '../layer/targets.js';
import { layerNameOf } from './arn.js';

/**
 * What `publish` writes as a layer version's description. It is how a version of the extension is
 * recognised whatever its layer name (`--layer-name`, another team's copy), so its shape is a contract.
 */
export function layerDescription(version: string, flavor: Flavor, arch: Arch): string {
  return `loki-lambda ${version}: ships Lambda logs to Grafana Loki (${flavor}, ${arch})`;
}

const DESCRIPTION = /^loki-lambda (\S+): ships Lambda logs to Grafana Loki \((\w+), (\w+)\)$/;

export interface OurDescription {
  readonly version: string;
  readonly flavor: Flavor | undefined;
  readonly arch: Arch | undefined;
}

export function parseLayerDescription(description: string | undefined): OurDescription | undefined {
  const match = DESCRIPTION.exec(description ?? '');
  if (!match) return undefined;
  const flavor = FLAVORS.find((f) => f === match[2]);
  const arch = ARCHES.find((a) => a === match[3]);
  return { version: match[1] ?? '', flavor, arch };
}

/** What is known of one layer version attached to a function. */
export interface LayerIdentity {
  readonly arn: string;
  /** Named like one of our layers (`loki-lambda-slim-arm64`, the --layer-name variants). */
  readonly byName: boolean;
  /** Its description is the one `publish` writes. */
  readonly described: OurDescription | undefined;
  /** Base64 SHA-256 of its zip, as Lambda reports it; undefined when it could not be read. */
  readonly codeSha256: string | undefined;
}

/**
 * Recognises our layer versions among `arns`: by name, by the description `publish` writes, or (once
 * the zips are known) by the zip's CodeSha256. Versions we may not read (another account's, deleted)
 * are not ours unless their name says so.
 */
export class LayerIdentities {
  private readonly known = new Map<string, LayerIdentity>();
  private readonly shas = new Set<string>();

  constructor(
    private readonly lambda: LambdaClient,
    private readonly ourNames: ReadonlySet<string>,
  ) {}

  /** Zips of the extension (built this run, or the layer version given): the same bytes are ours. */
  addOurSha(codeSha256: string | undefined): void {
    if (codeSha256 !== undefined && codeSha256 !== '') this.shas.add(codeSha256);
  }

  /** Reads every version not seen yet (one GetLayerVersionByArn each, named ones need none). */
  async learn(arns: Iterable<string>): Promise<void> {
    for (const arn of arns) {
      if (this.known.has(arn)) continue;
      const name = layerNameOf(arn);
      const byName = name !== undefined && this.ourNames.has(name);
      let described: OurDescription | undefined;
      let codeSha256: string | undefined;
      if (byName) {
        this.known.set(arn, { arn, byName, described, codeSha256 });
        continue;
      }
      try {
        const got = await this.lambda.send(new GetLayerVersionByArnCommand({ Arn: arn }));
        described = parseLayerDescription(got.Description);
        codeSha256 = got.Content?.CodeSha256;
      } catch {
        // Not readable with these credentials: only its name can tell.
      }
      this.known.set(arn, { arn, byName, described, codeSha256 });
    }
  }

  get(arn: string): LayerIdentity | undefined {
    return this.known.get(arn);
  }

  isOurs(arn: string): boolean {
    const identity = this.known.get(arn);
    if (identity === undefined) {
      const name = layerNameOf(arn);
      return name !== undefined && this.ourNames.has(name);
    }
    return (
      identity.byName ||
      identity.described !== undefined ||
      (identity.codeSha256 !== undefined && this.shas.has(identity.codeSha256))
    );
  }

  /** The flavor of one of our versions, from its description or its name. */
  flavorOf(arn: string): Flavor | undefined {
    const described = this.known.get(arn)?.described?.flavor;
    if (described !== undefined) return described;
    const name = layerNameOf(arn) ?? '';
    return FLAVORS.find((flavor) => name.includes(`-${flavor}-`) || name.endsWith(`-${flavor}`));
  }
}
