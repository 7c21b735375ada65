import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// SECURITY.md maps each guarantee to the test that proves it. This keeps the record honest: every
// file it names exists, and every test name it quotes is still in one of the files its row names.

const root = fileURLToPath(new URL('..', import.meta.url));
const record = readFileSync(`${root}SECURITY.md`, 'utf8');

/** Backticked paths of test files: `test/x.test.ts`, `packages/core/src/y.test.ts`, or a bare `y.test.ts` of core. */
function pathsIn(text: string): string[] {
  return [...text.matchAll(/`([\w./-]+\.ts)`/g)].map(([, path]) => {
    if (path!.includes('/')) return path!;
    return existsSync(`${root}test/${path}`) ? `test/${path}` : `packages/core/src/${path}`;
  });
}

/** Quoted test names; `…` stands for a part left out. */
function namesIn(text: string): string[] {
  return [...text.matchAll(/"([^"]{8,}?)"/g)].map(([, name]) => name!).filter((name) => !/^[a-z_]+$/.test(name));
}

const rows = record.split('\n').filter((line) => line.startsWith('|') || line.startsWith('- ') || line.startsWith('  '));

describe('SECURITY.md', () => {
  it('names only test files that exist', () => {
    const paths = [...new Set(pathsIn(record))];
    expect(paths.length).toBeGreaterThan(10);
    for (const path of paths) expect(existsSync(`${root}${path}`), path).toBe(true);
  });

  it.each(rows.filter((row) => namesIn(row).length > 0 && pathsIn(row).length > 0))('quotes test names that exist: %s', (row) => {
    const sources = pathsIn(row)
      .map((path) => readFileSync(`${root}${path}`, 'utf8'))
      .join('\n');
    for (const name of namesIn(row)) {
      // Test names in sources may escape quotes; compare with escapes removed.
      const text = sources.replace(/\\(["'])/g, '$1');
      for (const piece of name
        .split('…')
        .map((part) => part.trim())
        .filter((part) => part.length > 0)) {
        expect(text.includes(piece), `"${piece}" (from "${name}")`).toBe(true);
      }
    }
  });
});
