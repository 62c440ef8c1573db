import { describe, expect, it } from 'vitest';
import { nodeSupportNotice } from '../../src/node-support.js';

describe('the notice about an old Node.js', () => {
  it.each([
    ['v20.20.2', true],
    ['v18.0.0', true],
    ['v22.12.0', false],
    ['v24.1.0', false],
  ])('on %s is printed: %s', (version, printed) => {
    const notice = nodeSupportNotice(version);

    expect(notice !== undefined).toBe(printed);
    if (notice) expect(notice.trimEnd().split('\n')).toHaveLength(1);
  });
});
