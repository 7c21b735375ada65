import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGES, type PackageDir, packAll, repoRoot, run } from './pack-packages.js';

// What `pnpm pack` (and so a release) puts in each package's tarball, read back from the tarball.

/** Exactly what users need: the manifest, the README, the licence and the ESM + CJS builds with their types. */
const CONTENTS = ['LICENSE', 'README.md', 'dist/index.cjs', 'dist/index.d.cts', 'dist/index.d.ts', 'dist/index.js', 'package.json'];

interface Manifest {
  name: string;
  version: string;
  license: string;
  repository: { type: string; url: string; directory: string };
  homepage: string;
  bugs: { url: string };
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

let packDir: string;
let tarballs: Record<PackageDir, string>;
const entry = async (name: PackageDir, file: string) =>
  (await run('tar', ['-xzOf', tarballs[name], `package/${file}`], { timeout: 30_000, maxBuffer: 16 * 1024 * 1024 })).stdout;

beforeAll(async () => {
  ({ dir: packDir, tarballs } = await packAll());
}, 120_000);

afterAll(async () => {
  if (packDir) await rm(packDir, { recursive: true, force: true });
});

describe.each(PACKAGES)('the @jwtauth/%s tarball', (name) => {
  it('holds package.json, README.md, LICENSE and the built dist, nothing else', async () => {
    const { stdout } = await run('tar', ['-tzf', tarballs[name]], { timeout: 30_000 });
    const files = stdout
      .split('\n')
      .filter(Boolean)
      .map((path) => path.replace(/^package\//, ''));
    expect(files.sort()).toEqual(CONTENTS);
  });

  it('ships the MIT licence of the repository', async () => {
    expect(await entry(name, 'LICENSE')).toBe(await readFile(join(repoRoot, 'LICENSE'), 'utf8'));
    expect((JSON.parse(await entry(name, 'package.json')) as Manifest).license).toBe('MIT');
  });

  it('says where its source, home page and issue tracker are', async () => {
    const manifest = JSON.parse(await entry(name, 'package.json')) as Manifest;
    expect(manifest.repository).toEqual({ type: 'git', url: 'git+https://github.com/jwtauth/jwtauth.git', directory: `packages/${name}` });
    expect(manifest.homepage).toBe(`https://github.com/jwtauth/jwtauth/tree/main/packages/${name}#readme`);
    expect(manifest.bugs).toEqual({ url: 'https://github.com/jwtauth/jwtauth/issues' });
  });

  it('depends on ranges a user can deduplicate, @jwtauth/core on a caret of its released version', async () => {
    const manifest = JSON.parse(await entry(name, 'package.json')) as Manifest;
    const core = JSON.parse(await readFile(join(repoRoot, 'packages', 'core', 'package.json'), 'utf8')) as Manifest;
    for (const [dependency, range] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      expect(range, dependency).not.toMatch(/workspace:|file:|link:/);
      // One caret range per major (`^6.2.18`, `^4.22.3 || ^5.3.0`): never a pin that forces a second copy.
      expect(range, dependency).toMatch(/^\^\d+\.\d+\.\d+( \|\| \^\d+\.\d+\.\d+)*$/);
    }
    if (name !== 'core') expect(manifest.dependencies?.['@jwtauth/core']).toBe(`^${core.version}`);
  });

  it('is reported clean by @arethetypeswrong/cli in every resolution mode', async () => {
    // attw exits 1 when it finds a problem; its JSON report says which, so read that either way.
    const report = await run(join(repoRoot, 'node_modules', '.bin', 'attw'), [tarballs[name], '--format', 'json'], {
      timeout: 120_000,
      maxBuffer: 64 * 1024 * 1024,
    }).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    const { analysis } = JSON.parse(report.stdout) as { analysis: { problems: unknown[] } };
    expect(analysis.problems).toEqual([]);
  }, 120_000);
});
