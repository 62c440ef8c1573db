import { describe, expect, it } from 'vitest';
import { matchPattern, parsePattern } from '../support/loki-pattern.js';

/** The matcher the query tests rely on, held to Loki's documented pattern semantics. */
describe('the test matcher for LogQL pattern', () => {
  it.each([
    ['foo <foo> bar', 'foo buzz bar', { foo: 'buzz' }],
    ['foo <foo> bar<fuzz>', 'foo buzz bar', { foo: 'buzz', fuzz: '' }],
    // A literal that is missing ends matching: the capture before it takes the rest of the line.
    ['<path>?<_>', '/api/plugins/status', { path: '/api/plugins/status' }],
    ['<path>?<_>', '/api/plugins/versioncheck?slugIn=x', { path: '/api/plugins/versioncheck' }],
    // After a final literal the rest of the line is ignored.
    [
      '<_> <id> [<level>] ',
      '2021-05-19T07:40:12Z 42 [Note] Aborted connection 42',
      { id: '42', level: 'Note' },
    ],
    [
      '<_> msg="<method> <path> (<status>) <duration>"',
      'ts=1 msg="POST /push (204) 1.2ms"',
      {
        method: 'POST',
        path: '/push',
        status: '204',
        duration: '1.2ms',
      },
    ],
  ])('%s on %s', (pattern, line, expected) => {
    expect(matchPattern(pattern, line)).toEqual(expected);
  });

  it('is anchored at the start of the line', () => {
    expect(matchPattern('REPORT <x> ms', 'START REPORT 1 ms')).toBeUndefined();
  });

  it.each([
    ['<_>', 'at least one named capture'],
    ['foo bar buzz', 'at least one named capture'],
    ['<f><f>', 'consecutive captures'],
    ['<f> f<d><b>', 'consecutive captures'],
    ['<f> f<f>', 'duplicate capture name'],
  ])('refuses %s as Loki does', (pattern, message) => {
    expect(() => parsePattern(pattern)).toThrow(message);
  });
});
