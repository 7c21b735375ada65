import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** What the tests run, with a generous bound so a stuck child fails the test instead of hanging it. */
export const run = promisify(execFile);

/** The published packages, by directory name under packages/. */
export const PACKAGES = ['core', 'express', 'koa', 'fastify', 'hono', 'redis', 'issuer'] as const;
/** One published package's directory name. */
export type PackageDir = (typeof PACKAGES)[number];

/** The repository's root directory (with a trailing slash). */
export const repoRoot = fileURLToPath(new URL('..', import.meta.url));
/** A package's directory, by its name under packages/. */
export const packageDir = (name: string) => join(repoRoot, 'packages', name);

/**
 * Packs every published package with `pnpm pack` (what `changeset publish` uploads: pnpm rewrites
 * `workspace:` ranges into real ones) into a fresh temporary directory, and returns each tarball.
 * Needs the built dist (`pnpm build`), as publishing does.
 */
export async function packAll(): Promise<{ dir: string; tarballs: Record<PackageDir, string> }> {
  for (const name of PACKAGES) {
    if (!existsSync(join(packageDir(name), 'dist', 'index.d.cts'))) throw new Error(`packages/${name}/dist is missing: run \`pnpm build\` first`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'jwtauth-pack-'));
  const tarballs = {} as Record<PackageDir, string>;
  for (const name of PACKAGES) {
    const before = new Set(await readdir(dir));
    await run('pnpm', ['pack', '--pack-destination', dir], { cwd: packageDir(name), timeout: 60_000 });
    const made = (await readdir(dir)).filter((file) => !before.has(file) && file.endsWith('.tgz'));
    if (made.length !== 1) throw new Error(`pnpm pack in packages/${name} made ${made.length} tarballs`);
    tarballs[name] = join(dir, made[0]!);
  }
  return { dir, tarballs };
}
