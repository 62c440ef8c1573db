import { describe, expect, it } from 'vitest';
import { formatLabels, isValidLabelName } from '../../extension/labels.js';
import { parseLabels } from '../support/loki-labels.js';

describe('formatLabels', () => {
  it('sorts names so the same set always gives the same stream', () => {
    expect(formatLabels({ source: 'function', application: 'shop', environment: 'prod' })).toBe(
      '{application="shop", environment="prod", source="function"}',
    );
  });

  it('escapes backslashes, quotes and newlines so Loki parses the value back unchanged', () => {
    const value = 'a "quoted" \\ path\nnext';

    const formatted = formatLabels({ app: value });

    expect(formatted).toBe('{app="a \\"quoted\\" \\\\ path\\nnext"}');
    expect(parseLabels(formatted)).toEqual([{ name: 'app', value }]);
  });

  it.each([
    ['application', true],
    ['_private', true],
    ['a1_b2', true],
    ['1abc', false],
    ['my-label', false],
    ['', false],
    ['dotted.name', false],
  ])('says whether %j is a valid label name (%s)', (name, valid) => {
    expect(isValidLabelName(name)).toBe(valid);
  });
});
