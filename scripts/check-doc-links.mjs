// Checks the generated API reference (docs/api, `pnpm docs`) for broken links, without the network:
// every relative href/src in every HTML page must name a file that exists, and a #fragment must name
// an id (or name) in that page. External links (http:, mailto:, …) are not followed. TypeDoc's own
// `invalidLink` validation covers the {@link} tags; this covers what it renders.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(process.argv[2] ?? 'docs/api');
if (!existsSync(join(root, 'index.html'))) {
  console.error(`check-doc-links: no ${relative(process.cwd(), join(root, 'index.html'))}; run typedoc first.`);
  process.exit(1);
}

/** @param {string} dir @returns {string[]} */
function htmlFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return htmlFiles(path);
    return name.endsWith('.html') ? [path] : [];
  });
}

/** @type {Map<string, Set<string>>} */
const anchorsByFile = new Map();
/** @param {string} file */
function anchors(file) {
  let ids = anchorsByFile.get(file);
  if (!ids) {
    ids = new Set([...readFileSync(file, 'utf8').matchAll(/\s(?:id|name)="([^"]+)"/g)].map((m) => m[1] ?? ''));
    anchorsByFile.set(file, ids);
  }
  return ids;
}

const decode = (/** @type {string} */ text) =>
  text
    .replace(/&amp;/g, '&')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'");
const broken = [];
let checked = 0;
for (const page of htmlFiles(root)) {
  const html = readFileSync(page, 'utf8');
  for (const match of html.matchAll(/\s(?:href|src)="([^"]*)"/g)) {
    const link = decode(match[1] ?? '');
    // Absolute URLs and other schemes are out of scope (no network); "#" alone is TypeDoc's no-op.
    if (link === '' || link === '#' || /^[a-z][a-z0-9+.-]*:/i.test(link) || link.startsWith('//')) continue;
    checked++;
    const [pathPart = '', fragment] = link.split('#', 2);
    const target = pathPart === '' ? page : resolve(dirname(page), decodeURIComponent(pathPart.split('?')[0] ?? ''));
    if (!existsSync(target)) {
      broken.push(`${relative(root, page)}: ${link} (no such file)`);
    } else if (fragment && target.endsWith('.html') && !anchors(target).has(decodeURIComponent(fragment))) {
      broken.push(`${relative(root, page)}: ${link} (no #${fragment} in ${relative(root, target)})`);
    }
  }
}

if (broken.length > 0) {
  console.error(`check-doc-links: ${broken.length} broken link(s) in ${relative(process.cwd(), root)}:\n  ${broken.join('\n  ')}`);
  process.exit(1);
}
console.log(`check-doc-links: ${checked} relative links in ${relative(process.cwd(), root)} all resolve.`);
