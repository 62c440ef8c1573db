// npm pack (postpack): the repository itself always bundles the secret reader from its sources.
import { rm } from 'node:fs/promises';

await rm(new URL('../dist/layer-assets/', import.meta.url), { recursive: true, force: true });
