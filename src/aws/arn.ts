/** Lambda ARNs: `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` and `...:layer:NAME:VERSION`. */
const FUNCTION_ARN =
  /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]+)(?::([A-Za-z0-9$_-]+))?$/;
const LAYER_VERSION_ARN = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):layer:([A-Za-z0-9_-]+):(\d+)$/;

export interface FunctionArn {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly name: string;
  /** A version or alias; undefined for the function itself (`$LATEST`). */
  readonly qualifier: string | undefined;
}

export interface LayerVersionArn {
  readonly region: string;
  readonly account: string;
  readonly name: string;
  readonly version: number;
}

export function parseFunctionArn(value: string): FunctionArn | undefined {
  const match = FUNCTION_ARN.exec(value);
  if (!match) return undefined;
  return {
    partition: match[1]!,
    region: match[2]!,
    account: match[3]!,
    name: match[4]!,
    qualifier: match[5],
  };
}

/** The function's own ARN, without a version or alias (tags belong to it); anything else as it is. */
export function unqualifiedFunctionArn(value: string): string {
  const arn = parseFunctionArn(value);
  if (arn === undefined) return value;
  return `arn:${arn.partition}:lambda:${arn.region}:${arn.account}:function:${arn.name}`;
}

export function parseLayerVersionArn(value: string): LayerVersionArn | undefined {
  const match = LAYER_VERSION_ARN.exec(value);
  if (!match) return undefined;
  return { region: match[2]!, account: match[3]!, name: match[4]!, version: Number(match[5]) };
}

/** The layer name inside a layer version ARN, or undefined for anything else. */
export function layerNameOf(arn: string): string | undefined {
  return parseLayerVersionArn(arn)?.name;
}
