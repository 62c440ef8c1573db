/** Lambda ARNs: `arn:PARTITION:lambda:REGION:ACCOUNT:function:NAME[:QUALIFIER]` and `...:layer:NAME:VERSION`. */
const FUNCTION_ARN =
  /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):function:([A-Za-z0-9_-]+)(?::([A-Za-z0-9$_-]+))?$/;
const LAYER_VERSION_ARN = /^arn:(aws[a-z-]*):lambda:([a-z0-9-]+):(\d{12}):layer:([A-Za-z0-9_-]+):(\d+)$/;

export interface FunctionArn {
  readonly region: string;
  readonly account: string;
  readonly name: string;
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
  return { region: match[2]!, account: match[3]!, name: match[4]! };
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
