import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Every relative link of every README.md (and SECURITY.md) points at a file that exists, and every
// `#anchor` at a heading of that file, as GitHub renders the anchors of headings.

const root = fileURLToPath(new URL('..', import.meta.url));
const documents = execFileSync('git', ['ls-files', '*README.md', 'SECURITY.md'], { cwd: root, encoding: 'utf8' }).split('\n').filter(Boolean);

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, '')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

function anchorsOf(file: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of readFileSync(file, 'utf8').split(/\r?\n/)) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = !fenced && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const base = slug(heading[1]!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** The `](target)` links outside code, that are not absolute URLs. */
function linksOf(file: string): string[] {
  const text = readFileSync(file, 'utf8')
    .replace(/^\s*(```|~~~)[\s\S]*?^\s*\1/gm, '')
    .replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

const links = documents.flatMap((document) => linksOf(join(root, document)).map((target) => [document, target] as const));

describe('links between the READMEs', () => {
  it('finds the links', () => {
    expect(links.length).toBeGreaterThan(50);
  });

  it.each(links)('%s links to %s, which exists', (document, target) => {
    const [path, anchor] = target.split('#') as [string, string | undefined];
    const file = path === '' ? join(root, document) : normalize(join(root, dirname(document), decodeURIComponent(path)));
    expect(existsSync(file), `${file} exists`).toBe(true);
    if (anchor !== undefined && anchor !== '') expect([...anchorsOf(file)], `#${anchor} in ${file}`).toContain(anchor);
  });
});
