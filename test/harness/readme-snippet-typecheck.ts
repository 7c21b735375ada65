import { readFileSync } from 'node:fs';
import ts from 'typescript';

// Type-checks the README snippets for test/readme-snippets.test.ts, in a child process so that
// the snippets run meanwhile: `node readme-snippet-typecheck.js <job.json>`, where the job is
// `{ options, programs }` (compiler options, and the root files of each program), and prints
// `Found[]` as JSON. The programs share every parsed file (lib, @types, frameworks, dist).

interface Job {
  options: ts.CompilerOptions;
  programs: string[][];
}

/** One diagnostic; `file`/`line` (1-based) are absent for a global one. */
export interface Found {
  program: number;
  file?: string;
  line?: number;
  message: string;
}

const job = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as Job;
const host = ts.createCompilerHost(job.options, true);
const parsed = new Map<string, ts.SourceFile | undefined>();
const getSourceFile = host.getSourceFile.bind(host);
host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
  if (!parsed.has(fileName)) parsed.set(fileName, getSourceFile(fileName, languageVersion, onError, shouldCreate));
  return parsed.get(fileName);
};

const found: Found[] = [];
job.programs.forEach((rootNames, program) => {
  for (const d of ts.getPreEmitDiagnostics(ts.createProgram({ rootNames, options: job.options, host }))) {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (d.file === undefined || d.start === undefined) found.push({ program, message });
    else found.push({ program, file: d.file.fileName, line: d.file.getLineAndCharacterOfPosition(d.start).line + 1, message });
  }
});
process.stdout.write(JSON.stringify(found));
