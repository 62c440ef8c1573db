import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The files the AWS SDK reads profiles from: AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE, else ~/.aws/. */
export function profileFiles(
  env: Readonly<Record<string, string | undefined>>,
  home: string,
): { readonly config: string; readonly credentials: string } {
  return {
    config: env.AWS_CONFIG_FILE || join(home, '.aws', 'config'),
    credentials: env.AWS_SHARED_CREDENTIALS_FILE || join(home, '.aws', 'credentials'),
  };
}

/**
 * The profile names those files define: `[profile NAME]` (or `[NAME]`) in the config file, `[NAME]` in
 * the credentials file. The SDK reports a missing profile as "Could not load credentials from any
 * providers", so the CLI looks first and says which profile is missing.
 */
export async function knownProfiles(files: { readonly config: string; readonly credentials: string }) {
  const names = new Set<string>();
  for (const [path, isConfig] of [
    [files.config, true],
    [files.credentials, false],
  ] as const) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue;
    }
    for (const match of text.matchAll(/^\s*\[([^\]]+)\]/gm)) {
      const section = (match[1] ?? '').trim();
      if (isConfig && /^(sso-session|services)\s/.test(section)) continue;
      names.add(isConfig ? section.replace(/^profile\s+/, '') : section);
    }
  }
  return names;
}

/**
 * The keys of one profile in each file, read with the AWS SDK's own parser (loaded only when asked),
 * config file first: where both set a key, the SDK takes the config file's.
 */
export async function profileSections(
  files: { readonly config: string; readonly credentials: string },
  profile: string,
): Promise<Array<{ readonly file: string; readonly values: Readonly<Record<string, string | undefined>> }>> {
  const { loadSharedConfigFiles } = await import('@smithy/core/config');
  const { configFile, credentialsFile } = await loadSharedConfigFiles({
    configFilepath: files.config,
    filepath: files.credentials,
    ignoreCache: true,
  });
  return [
    { file: files.config, values: configFile[profile] ?? {} },
    { file: files.credentials, values: credentialsFile[profile] ?? {} },
  ];
}
