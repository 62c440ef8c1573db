/** The infrastructure-as-code tools `loki-lambda snippet` writes a fragment for. */
export const IAC_FORMATS = ['terraform', 'cdk', 'sam', 'serverless'] as const;
export type IacFormat = (typeof IAC_FORMATS)[number];

/** A LOKI_* value: written as it is, or, for a secret, a reference to a deploy-time input. */
export type SnippetValue = { readonly kind: 'value'; readonly value: string } | { readonly kind: 'secret' };

export interface SnippetInput {
  readonly format: IacFormat;
  /** Names the resource in the fragment (and says which function it is for). */
  readonly functionName: string;
  readonly layerArn: string;
  readonly environment: ReadonlyArray<readonly [name: string, value: SnippetValue]>;
  readonly version: string;
}

/** The fragment to paste into the tool's source: the layer and the LOKI_* environment, no secret value. */
export function renderIacSnippet(input: SnippetInput): string {
  switch (input.format) {
    case 'terraform':
      return terraform(input);
    case 'cdk':
      return cdk(input);
    case 'sam':
      return sam(input);
    case 'serverless':
      return serverless(input);
  }
}

function header(input: SnippetInput, comment: string, where: string): string {
  return [
    `${comment} loki-lambda ${input.version} for the function "${input.functionName}": ${where}`,
    `${comment} Keep the function's other layers and variables; secrets are inputs, never values.`,
  ].join('\n');
}

function secretsOf(input: SnippetInput): string[] {
  return input.environment.filter(([, value]) => value.kind === 'secret').map(([name]) => name);
}

/** LOKI_BEARER_TOKEN -> LokiBearerToken (CloudFormation logical ids are alphanumeric). */
function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((part) => part !== '')
    .map((part) => part[0]?.toUpperCase() + part.slice(1).toLowerCase())
    .join('');
}

/** A JSON string is an HCL string once template sequences (`${`, `%{`) are escaped. */
function hclString(value: string): string {
  // A function replacer: in a replacement string `$$` would mean one `$`.
  return JSON.stringify(value)
    .replaceAll('${', () => '$${')
    .replaceAll('%{', () => '%%{');
}

function terraform(input: SnippetInput): string {
  const resource = input.functionName.replace(/[^A-Za-z0-9_-]/g, '_').replace(/^([^A-Za-z_])/, '_$1');
  const width = Math.max(0, ...input.environment.map(([name]) => name.length));
  const variables = input.environment.map(([name, value]) => {
    const expression = value.kind === 'secret' ? `var.${name.toLowerCase()}` : hclString(value.value);
    return `      ${name.padEnd(width)} = ${expression}`;
  });
  const lines = [
    header(input, '#', 'merge into its aws_lambda_function resource.'),
    `resource "aws_lambda_function" ${hclString(resource)} {`,
    "  # ...the function's other arguments, as they are...",
    `  layers = [${hclString(input.layerArn)}]`,
    '',
    '  environment {',
    '    variables = {',
    ...variables,
    '    }',
    '  }',
    '}',
  ];
  for (const name of secretsOf(input)) {
    lines.push('', `variable "${name.toLowerCase()}" {`, '  type      = string', '  sensitive = true', '}');
  }
  return `${lines.join('\n')}\n`;
}

function cdk(input: SnippetInput): string {
  const secrets = secretsOf(input);
  const parameters =
    secrets.length === 0
      ? 'fn: lambda.Function'
      : `fn: lambda.Function, secrets: { ${secrets.map((name) => `${name}: string`).join('; ')} }`;
  const lines = [
    header(input, '//', 'call addLokiLambda(fn) in the stack that defines it.'),
    "import * as lambda from 'aws-cdk-lib/aws-lambda';",
    '',
    `export function addLokiLambda(${parameters}): void {`,
    `  fn.addLayers(lambda.LayerVersion.fromLayerVersionArn(fn, 'LokiLambdaLayer', ${JSON.stringify(input.layerArn)}));`,
    ...input.environment.map(([name, value]) =>
      value.kind === 'secret'
        ? `  fn.addEnvironment('${name}', secrets.${name});`
        : `  fn.addEnvironment('${name}', ${JSON.stringify(value.value)});`,
    ),
    '}',
  ];
  return `${lines.join('\n')}\n`;
}

/** JSON strings are YAML double-quoted scalars. */
const yamlString = JSON.stringify;

function sam(input: SnippetInput): string {
  const secrets = secretsOf(input);
  const lines = [header(input, '#', 'merge into your SAM template.')];
  if (secrets.length > 0) {
    lines.push('Parameters:');
    for (const name of secrets) lines.push(`  ${pascalCase(name)}:`, '    Type: String', '    NoEcho: true');
  }
  lines.push(
    'Resources:',
    `  ${pascalCase(input.functionName) || 'Function'}:`,
    '    Type: AWS::Serverless::Function',
    '    Properties:',
    '      Layers:',
    `        - ${yamlString(input.layerArn)}`,
    '      Environment:',
    '        Variables:',
    ...input.environment.map(
      ([name, value]) =>
        `          ${name}: ${value.kind === 'secret' ? `!Ref ${pascalCase(name)}` : yamlString(value.value)}`,
    ),
  );
  return `${lines.join('\n')}\n`;
}

function serverless(input: SnippetInput): string {
  const lines = [
    header(input, '#', 'merge into serverless.yml.'),
    'functions:',
    `  ${yamlString(input.functionName)}:`,
    '    layers:',
    `      - ${yamlString(input.layerArn)}`,
    '    environment:',
    ...input.environment.map(
      ([name, value]) =>
        // Resolved by the Serverless Framework from the deploying shell's environment.
        `      ${name}: ${yamlString(value.kind === 'secret' ? `\${env:${name}}` : value.value)}`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
