// npm pack (prepack): bundles the extension's secret reader (the AWS SDK's Secrets Manager and SSM
// clients) from this repository's locked dependencies into dist/layer-assets/, which the package
// ships. An installed loki-lambda builds its layers with this file, so they are byte-identical to
// the repository's whatever versions npm resolves for the user (src/layer/bundle.ts).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  bundleSecretsReader,
  PREBUILT_SECRETS_READER_DIR,
  SECRETS_BUNDLE_FILE_NAME,
} from '../dist/src/layer/bundle.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const reader = await bundleSecretsReader(root);
const dir = join(root, PREBUILT_SECRETS_READER_DIR);
const file = join(dir, SECRETS_BUNDLE_FILE_NAME);
await mkdir(dir, { recursive: true });
await writeFile(file, reader.code);
await writeFile(`${file}.map`, reader.sourceMap);
await writeFile(`${file}.inputs.json`, JSON.stringify(reader.inputs));
