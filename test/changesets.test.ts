import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PACKAGES, repoRoot, run } from './pack-packages.js';

// The release process (CONTRIBUTING.md) run on a throw-away copy of the workspace's manifests and
// .changeset/: `changeset status` accepts the pending changesets, and `changeset version` bumps
// every published package to one version (the `fixed` group) and writes each CHANGELOG.md.

interface Manifest {
  name: string;
  version?: string;
  private?: boolean;
  dependencies?: Record<string, string>;
}
interface Status {
  releases: { name: string; type: string; oldVersion: string; newVersion: string; changesets: string[] }[];
  changesets: { id: string; summary: string; releases: { name: string; type: string }[] }[];
}

const changeset = join(repoRoot, 'node_modules', '.bin', 'changeset');
const PUBLISHED = PACKAGES.map((name) => `@jwtauth/${name}`);
let copy: string;
let status: Status;
/** The workspace's private packages: the examples (those with a manifest), the conformance suite, the benchmarks. */
const privateDirs = async () =>
  [...(await readdir(join(repoRoot, 'examples'))).map((name) => join('examples', name)), 'test', 'bench'].filter((dir) =>
    existsSync(join(repoRoot, dir, 'package.json')),
  );
const manifest = async (root: string, path: string) => JSON.parse(await readFile(join(root, path, 'package.json'), 'utf8')) as Manifest;

beforeAll(async () => {
  copy = await mkdtemp(join(tmpdir(), 'jwtauth-changesets-'));
  for (const file of ['package.json', 'pnpm-workspace.yaml']) await cp(join(repoRoot, file), join(copy, file));
  await cp(join(repoRoot, '.changeset'), join(copy, '.changeset'), { recursive: true });
  for (const dir of [...PACKAGES.map((name) => join('packages', name)), ...(await privateDirs())]) {
    await mkdir(join(copy, dir), { recursive: true });
    await cp(join(repoRoot, dir, 'package.json'), join(copy, dir, 'package.json'));
  }
  // The changelog generator named in config.json is resolved from the copy.
  await symlink(join(repoRoot, 'node_modules'), join(copy, 'node_modules'), 'dir');
  // `changeset status` compares with the base branch (main): a repository whose main holds the copy.
  const git = (...args: string[]) => run('git', ['-c', 'user.name=ci', '-c', 'user.email=ci@localhost', ...args], { cwd: copy, timeout: 30_000 });
  await git('init', '-q', '-b', 'main');
  await writeFile(join(copy, '.gitignore'), 'node_modules\n');
  await git('add', '-A');
  await git('commit', '-q', '-m', 'copy');
  await run(changeset, ['status', '--output', 'status.json'], { cwd: copy, timeout: 60_000 });
  status = JSON.parse(await readFile(join(copy, 'status.json'), 'utf8')) as Status;
  await run(changeset, ['version'], { cwd: copy, timeout: 60_000 });
}, 120_000);

afterAll(async () => {
  if (copy) await rm(copy, { recursive: true, force: true });
});

describe('changeset status', () => {
  it('plans a release of every published package, at one version, and of nothing private', async () => {
    expect(status.changesets.length).toBeGreaterThan(0);
    const released = status.releases.filter((release) => release.type !== 'none');
    expect(released.map((release) => release.name).sort()).toEqual([...PUBLISHED].sort());
    expect(new Set(released.map((release) => release.newVersion)).size).toBe(1);
    expect(released.every((release) => release.newVersion !== release.oldVersion)).toBe(true);
  });
});

describe('changeset version', () => {
  it.each(PUBLISHED)('bumps %s to the planned version and writes its CHANGELOG.md from the changesets', async (name) => {
    const dir = join('packages', name.replace('@jwtauth/', ''));
    const release = status.releases.find((candidate) => candidate.name === name)!;
    expect((await manifest(copy, dir)).version).toBe(release.newVersion);
    const changelog = await readFile(join(copy, dir, 'CHANGELOG.md'), 'utf8');
    expect(changelog.startsWith(`# ${name}\n\n## ${release.newVersion}\n`)).toBe(true);
    // Each changeset that names the package is in its entry, by its first line.
    for (const id of release.changesets) {
      const firstLine = status.changesets.find((candidate) => candidate.id === id)!.summary.split('\n')[0]!;
      expect(changelog).toContain(firstLine);
    }
    expect(await readdir(join(copy, '.changeset'))).toEqual(expect.not.arrayContaining(release.changesets.map((id) => `${id}.md`)));
  });

  it('keeps @jwtauth/core a workspace range in the adapters (pnpm publish turns it into the new caret)', async () => {
    for (const name of PACKAGES.filter((candidate) => candidate !== 'core')) {
      expect((await manifest(copy, join('packages', name))).dependencies?.['@jwtauth/core'], name).toBe('workspace:^');
    }
  });

  it('leaves the private examples, the conformance suite and the benchmarks alone', async () => {
    const dirs = await privateDirs();
    expect(dirs.length).toBeGreaterThan(2);
    for (const path of dirs) {
      const before = await manifest(repoRoot, path);
      expect(before.private, path).toBe(true);
      expect(await manifest(copy, path), path).toEqual(before);
      expect(await readdir(join(copy, path)), path).toEqual(['package.json']);
    }
  });
});
