import { describe, expect, it } from 'vitest';
import { defaultCacheDir } from '../../src/layer/cache-dir.js';

describe('defaultCacheDir', () => {
  it.each([
    [
      'Linux with XDG_CACHE_HOME',
      { XDG_CACHE_HOME: '/xdg/cache' },
      'linux',
      '/home/u',
      '/xdg/cache/loki-lambda',
    ],
    ['Linux without XDG_CACHE_HOME', {}, 'linux', '/home/u', '/home/u/.cache/loki-lambda'],
    [
      'Linux with a relative XDG_CACHE_HOME (ignored)',
      { XDG_CACHE_HOME: 'rel' },
      'linux',
      '/home/u',
      '/home/u/.cache/loki-lambda',
    ],
    ['macOS', { XDG_CACHE_HOME: '/xdg' }, 'darwin', '/Users/u', '/Users/u/Library/Caches/loki-lambda'],
    [
      'Windows',
      { LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' },
      'win32',
      'C:\\Users\\u',
      'C:\\Users\\u\\AppData\\Local\\loki-lambda\\Cache',
    ],
    [
      'Windows without LOCALAPPDATA',
      {},
      'win32',
      'C:\\Users\\u',
      'C:\\Users\\u\\AppData\\Local\\loki-lambda\\Cache',
    ],
  ] as const)('uses the platform convention on %s', (_case, env, platform, home, expected) => {
    expect(defaultCacheDir(env, platform, home)).toBe(expected);
  });
});
