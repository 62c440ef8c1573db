import { posix, win32 } from 'node:path';

const CACHE_SUBDIR = 'loki-lambda';
/** Where attach, deploy and publish write the zips they build, inside the cache directory. */
export const BUILT_LAYERS_SUBDIR = 'layers';

/**
 * The per-user cache directory for downloads `build` may reuse offline (the pinned Node tarballs):
 * `$XDG_CACHE_HOME/loki-lambda` or `~/.cache/loki-lambda` on Linux and other Unixes,
 * `~/Library/Caches/loki-lambda` on macOS, `%LOCALAPPDATA%\loki-lambda\Cache` on Windows.
 */
export function defaultCacheDir(
  env: Readonly<Record<string, string | undefined>>,
  platform: NodeJS.Platform,
  homedir: string,
): string {
  if (platform === 'win32') {
    const localAppData = env.LOCALAPPDATA || win32.join(homedir, 'AppData', 'Local');
    return win32.join(localAppData, CACHE_SUBDIR, 'Cache');
  }
  if (platform === 'darwin') return posix.join(homedir, 'Library', 'Caches', CACHE_SUBDIR);
  // The XDG spec says to ignore a relative XDG_CACHE_HOME.
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && posix.isAbsolute(xdg) ? xdg : posix.join(homedir, '.cache');
  return posix.join(base, CACHE_SUBDIR);
}
