import { describe, expect, it } from 'vitest';
import { parseFunctionArn, unqualifiedFunctionArn } from '../../src/aws/arn.js';

const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:orders';

describe('function ARNs', () => {
  it('reads the partition, region, account, name and qualifier', () => {
    expect(parseFunctionArn('arn:aws-cn:lambda:cn-north-1:123456789012:function:orders:live')).toEqual({
      partition: 'aws-cn',
      region: 'cn-north-1',
      account: '123456789012',
      name: 'orders',
      qualifier: 'live',
    });
  });

  it.each([
    [`${ARN}:live`, ARN],
    [`${ARN}:7`, ARN],
    [`${ARN}:$LATEST`, ARN],
    [ARN, ARN],
    ['orders', 'orders'],
  ])('the unqualified ARN of %s is %s (tags belong to the function, not to a version)', (given, expected) => {
    expect(unqualifiedFunctionArn(given)).toBe(expected);
  });
});
