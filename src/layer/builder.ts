import type { BuiltLayer } from './build-layers.js';
import type { Arch, Flavor } from './targets.js';

/** What a command asks of the layer build; the CLI entry decides the defaults (see `defaultAwsDeps`). */
export interface LayerBuildRequest {
  readonly arches: readonly Arch[];
  readonly flavors: readonly Flavor[];
  /** Where the zips go; by default the user's cache directory, never the working directory. */
  readonly outDir?: string;
  /** Where downloaded Node tarballs are kept; by default the user's cache directory. */
  readonly cacheDir?: string;
  readonly onProgress?: (message: string) => void;
}

/** Builds layer zips; injected into every command that builds, so tests can pass a fake one. */
export type LayerBuilder = (request: LayerBuildRequest) => Promise<readonly BuiltLayer[]>;
