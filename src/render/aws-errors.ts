import { awsErrorName, errorMessage, FunctionUpdateFailedError, ZipTooLargeError } from '../aws/errors.js';
import { NamePatternTooSlowError } from '../aws/name-pattern.js';
import type { RegionProblem } from '../aws/region.js';
import { AwsRetrySettingError } from '../aws/retry-settings.js';
import { formatBytes } from './format.js';

export function renderRegionProblem(problem: RegionProblem): string {
  switch (problem.kind) {
    case 'missing':
      return (
        'no AWS region: pass --region (e.g. --region eu-west-1), give a function ARN, set "region" in ' +
        'loki-lambda.config.json, or set AWS_REGION\n'
      );
    case 'arns-disagree':
      return `the function ARNs are in different regions (${problem.regions.join(', ')}); run once per region\n`;
    case 'flag-disagrees-with-arn':
      return `--region ${problem.flag} does not match the function ARN's region ${problem.arnRegion}; drop --region or fix the ARN\n`;
    case 'not-a-region': {
      const where = problem.source === 'config file' ? '"region" in the config file' : problem.source;
      return `${where} is "${problem.region}", which is not an AWS region name (e.g. eu-west-1, us-east-1, ap-southeast-2)\n`;
    }
  }
}

export function renderMissingProfile(
  profile: string,
  files: { readonly config: string; readonly credentials: string },
  known: readonly string[],
): string {
  const list = known.length > 0 ? `; profiles there: ${known.join(', ')}` : '';
  return `AWS profile "${profile}" does not exist in ${files.config} or ${files.credentials}${list}`;
}

/** A function that could not be read: when Lambda does not know it, the region is the usual cause. */
export function renderFunctionReadError(error: unknown, region: string): string {
  if (awsErrorName(error) === 'ResourceNotFoundException') {
    return (
      `not found in ${region}: ${errorMessage(error)}. Check the name, or pass --region ` +
      "(or the function's ARN) if it is in another region"
    );
  }
  return renderAwsError(error);
}

/** One line for an error from AWS or our own typed errors, with a hint when a common cause is clear. */
export function renderAwsError(error: unknown): string {
  if (error instanceof ZipTooLargeError) {
    return (
      `${error.path} is ${formatBytes(error.sizeBytes)}, over Lambda's ${formatBytes(error.limitBytes)} direct upload limit: ` +
      'pass --s3-bucket BUCKET (a bucket in the same region) to upload it through S3'
    );
  }
  if (
    error instanceof FunctionUpdateFailedError ||
    error instanceof NamePatternTooSlowError ||
    error instanceof AwsRetrySettingError
  )
    return error.message;
  const name = awsErrorName(error);
  const message = errorMessage(error);
  switch (name) {
    case 'CredentialsProviderError':
      return `no AWS credentials found (${message}); use --profile, AWS_PROFILE, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or web identity`;
    case 'AccessDeniedException':
    case 'AccessDenied':
      return `access denied: ${message} (see the IAM permissions in the README)`;
    case 'ResourceNotFoundException':
      return `not found: ${message}`;
    case 'PreconditionFailedException':
      return 'the function changed after it was planned (RevisionId differs); run the command again to plan from its new state';
    case '':
      return message;
    default:
      return `${name}: ${message}`;
  }
}
