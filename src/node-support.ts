/** The oldest Node.js major that AWS SDK for JavaScript v3 releases after January 2027 support. */
export const AWS_SDK_NODE_MAJOR_MIN = 22;

/**
 * One short line for a Node.js the AWS SDK is about to drop, printed instead of the SDK's own
 * nine-line warning on every AWS command; nothing on a supported Node.js.
 */
export function nodeSupportNotice(nodeVersion: string): string | undefined {
  const major = Number.parseInt(nodeVersion.replace(/^v/, ''), 10);
  if (!Number.isInteger(major) || major >= AWS_SDK_NODE_MAJOR_MIN) return undefined;
  return `loki-lambda: note: Node.js ${nodeVersion} is past its end of life; AWS SDK releases after January 2027 need Node.js ${AWS_SDK_NODE_MAJOR_MIN} or newer\n`;
}
