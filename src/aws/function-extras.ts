import {
  type LambdaClient,
  ListAliasesCommand,
  ListTagsCommand,
  PublishVersionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
} from '@aws-sdk/client-lambda';
import { unqualifiedFunctionArn } from './arn.js';

/** The tag attach and upgrade put on a function (its value: the CLI version); detach removes it. */
export const INSTRUMENTED_TAG = 'loki-lambda:version';

/** What a plan warns about beyond layers and variables: who else manages the function, and its aliases. */
export interface FunctionExtras {
  readonly tags: Readonly<Record<string, string>>;
  /** Aliases that point at a published version (attach changes `$LATEST` only). */
  readonly aliasesOnVersions: ReadonlyArray<{ readonly name: string; readonly version: string }>;
}

/** Tags that say a tool deploys this function and would put back its own configuration. */
const IAC_TAGS: ReadonlyArray<readonly [RegExp, string]> = [
  [/^aws:cloudformation:stack-name$/, 'CloudFormation (SAM, CDK or the Serverless Framework)'],
  [/^(serverless|sls):/i, 'the Serverless Framework'],
  [/^(managed[-_]?by|terraform|tf[-_:]?managed)$/i, 'Terraform'],
];

/** The tool a function's tags name as its deployer, with the tag that says so; undefined when none. */
export function iacMarker(tags: Readonly<Record<string, string>>): { tool: string; tag: string } | undefined {
  for (const [key, value] of Object.entries(tags)) {
    for (const [pattern, tool] of IAC_TAGS) {
      if (!pattern.test(key)) continue;
      // `ManagedBy=terraform` names it; `ManagedBy=team-x` does not.
      if (tool === 'Terraform' && /^managed/i.test(key) && !/terraform|opentofu/i.test(value)) continue;
      return { tool, tag: `${key}=${value}` };
    }
  }
  return undefined;
}

export async function readFunctionExtras(lambda: LambdaClient, arn: string): Promise<FunctionExtras> {
  const [tags, aliases] = await Promise.all([
    lambda.send(new ListTagsCommand({ Resource: unqualifiedFunctionArn(arn) })),
    lambda.send(new ListAliasesCommand({ FunctionName: arn })),
  ]);
  return {
    tags: tags.Tags ?? {},
    aliasesOnVersions: (aliases.Aliases ?? [])
      .filter((alias) => alias.Name !== undefined && alias.FunctionVersion !== '$LATEST')
      .map((alias) => ({ name: alias.Name ?? '', version: alias.FunctionVersion ?? '' })),
  };
}

export async function tagInstrumented(lambda: LambdaClient, arn: string, version: string): Promise<void> {
  await lambda.send(
    new TagResourceCommand({ Resource: unqualifiedFunctionArn(arn), Tags: { [INSTRUMENTED_TAG]: version } }),
  );
}

export async function untagInstrumented(lambda: LambdaClient, arn: string): Promise<void> {
  await lambda.send(
    new UntagResourceCommand({ Resource: unqualifiedFunctionArn(arn), TagKeys: [INSTRUMENTED_TAG] }),
  );
}

/** Publishes `$LATEST` as a new version and, when asked, moves an alias to it. */
export async function publishFunctionVersion(
  lambda: LambdaClient,
  functionName: string,
  alias: string | undefined,
): Promise<{ version: string; alias: string | undefined }> {
  const published = await lambda.send(
    new PublishVersionCommand({
      FunctionName: functionName,
      Description: 'loki-lambda: layer and LOKI_* settings',
    }),
  );
  const version = published.Version ?? '';
  if (alias !== undefined) {
    await lambda.send(
      new UpdateAliasCommand({ FunctionName: functionName, Name: alias, FunctionVersion: version }),
    );
  }
  return { version, alias };
}
