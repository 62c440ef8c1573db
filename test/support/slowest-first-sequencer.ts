import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * The files that hold a worker longest (measured on a 2-core machine: layer-run ~45 s and build
 * ~17 s share one build of the six layer zips, package ~30 s packs and installs the tarball,
 * memory-cgroup ~15 s and lossless-loads ~11 s push tens of MiB). vitest starts longest first only
 * from the durations of an earlier run, which a fresh clone (CI) has not got; by file size, these
 * small files would start last and run alone at the end.
 */
const LONGEST_FIRST = [
  'test/integration/layer-run.test.ts',
  'test/integration/package.test.ts',
  'test/integration/build.test.ts',
  'test/integration/memory-cgroup.test.ts',
  'test/integration/lossless-loads.test.ts',
];

/** vitest's own order (earlier durations, else file size), with LONGEST_FIRST moved to the front. */
export class SlowestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    // A renamed file would silently lose its place: say so instead.
    const missing = LONGEST_FIRST.filter((file) => !existsSync(join(root, file)));
    if (missing.length > 0)
      throw new Error(`slowest-first-sequencer: no such test file ${missing.join(', ')}`);
    const rank = (spec: TestSpecification): number => {
      const index = LONGEST_FIRST.indexOf(relative(root, spec.moduleId));
      return index === -1 ? LONGEST_FIRST.length : index;
    };
    return (await super.sort(files)).sort((a, b) => rank(a) - rank(b));
  }
}
