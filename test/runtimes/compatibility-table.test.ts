/**
 * Keeps the root README's compatibility table honest: every version it names is the one CI
 * installs (test/package.json pins them exactly, the frozen lockfile installs them) or runs (Node's major, the Workers compatibility
 * date), and every test file it links exists. The tests it links prove the cells.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { COMPATIBILITY_DATE } from './workerd.js';

const ROOT = new URL('../../', import.meta.url);
const readme = readFileSync(new URL('README.md', ROOT), 'utf8');
const section = /^## Compatibility\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
const { devDependencies } = JSON.parse(readFileSync(new URL('test/package.json', ROOT), 'utf8')) as { devDependencies: Record<string, string> };
/** The exact version test/package.json pins (`npm:express@4.22.3` for an alias), which the frozen lockfile installs. */
const installed = (name: string) => devDependencies[name]!.replace(/^npm:.+@/, '');

describe('the README compatibility table', () => {
  it('exists', () => {
    expect(section).toContain('| runtime (as CI runs it) |');
  });

  /** The packages each label in the table stands for. */
  const PACKAGES: Record<string, string[]> = {
    Express: ['express4', 'express'],
    Koa: ['koa2', 'koa'],
    Fastify: ['fastify4', 'fastify'],
    Hono: ['hono'],
    'node-redis': ['redis'],
    ioredis: ['ioredis'],
    Bun: ['bun'],
    Deno: ['deno'],
    workerd: ['workerd'],
  };

  it.each(Object.entries(PACKAGES).flatMap(([label, names]) => names.map((name) => [label, name])))(
    'names %s at the version of the package %s CI installs',
    (label, name) => {
      expect(section).toMatch(new RegExp(`${label} (\\d+\\.\\d+\\.\\d+ and )?${installed(name).replaceAll('.', '\\.')}\\b`));
    },
  );

  it('names no version CI does not install', () => {
    const all = [...section.matchAll(/\b\d+\.\d+\.\d+\b/g)].length;
    const named = [...section.matchAll(/([\w-]+) (\d+\.\d+\.\d+)(?: and (\d+\.\d+\.\d+))?/g)];
    const versions = named.flatMap(([, label, first, second]) =>
      [first, second].filter((v) => v !== undefined).map((version) => ({ label: label!, version: version })),
    );
    expect(versions.length, 'every version follows the name of what it is the version of').toBe(all);
    for (const { label, version } of versions) {
      expect(PACKAGES[label], `${label} is a package CI installs`).toBeDefined();
      expect(PACKAGES[label]!.map(installed), `${label} ${version}`).toContain(version);
    }
  });

  it('has a cell for every package in every runtime row', () => {
    const rows = section.split('\n').filter((line) => line.startsWith('| **'));
    expect(rows.map((row) => /^\| \*\*([^*]+)\*\*/.exec(row)![1]!.split(' ')[0])).toEqual(['Node.js', 'Bun', 'Deno', 'Cloudflare']);
    for (const row of rows) expect(row.split(' | ').length, row).toBe(8);
  });

  it('names the Node.js major CI runs and the Workers compatibility date the test configures', () => {
    expect(section).toContain(`**Node.js ${process.versions.node.split('.')[0]}**`);
    expect(section).toContain(`compatibility date ${COMPATIBILITY_DATE}`);
  });

  it('links only test files that exist', () => {
    const links = [...section.matchAll(/\]\((test\/[^)]+)\)/g)].map((match) => match[1]!);
    expect(links.length).toBeGreaterThan(10);
    for (const link of new Set(links)) expect(existsSync(new URL(link, ROOT)), link).toBe(true);
  });
});
