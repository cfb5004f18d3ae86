/**
 * `burnback dev`'s compiler, run as a child process of it (dev-build.ts forks
 * it): `tsc -b --watch` over the projects named on its command line, through
 * TypeScript's own solution builder, so that it can say which files each build
 * changed. It reports to its parent over IPC (CompilerMessage): every
 * diagnostic as tsc prints it, and after each build its error count and the
 * files whose content changed (a file written again unchanged is not a change).
 * It exits when its parent goes (the IPC channel closes), even a killed one.
 *
 * TypeScript is a dev dependency: this runs from a clone (`npm start`), never in an image.
 */
import ts from 'typescript';
import type { CompilerMessage } from './dev-watch.js';

/** "Found 1 error. Watching for file changes." and "Found {0} errors. Watching for file changes.": a build ended. */
const BUILD_ENDED = new Set([6193, 6194]);

function main(projects: string[]): void {
  const send = (message: CompilerMessage) => {
    if (process.connected) process.send!(message);
  };
  const formatHost: ts.FormatDiagnosticsHost = {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => process.cwd(),
    getNewLine: () => '\n',
  };
  let errors = 0;
  let changed = new Set<string>();
  const host = ts.createSolutionBuilderWithWatchHost(
    ts.sys,
    ts.createEmitAndSemanticDiagnosticsBuilderProgram,
    (diagnostic) => {
      if (diagnostic.category === ts.DiagnosticCategory.Error) errors++;
      send({ kind: 'diagnostic', text: ts.formatDiagnostic(diagnostic, formatHost).trimEnd() });
    },
    () => undefined,
    (status) => {
      if (!BUILD_ENDED.has(status.code)) return;
      const built: CompilerMessage = { kind: 'built', errors, changed: [...changed] };
      errors = 0;
      changed = new Set();
      // tsc reports the end of a build before it (re)creates its file watchers: a change made the moment the
      // parent hears of the build must not fall before them, so the parent hears of it once they exist.
      setImmediate(() => send(built));
    },
  );
  const write = host.writeFile?.bind(host) ?? ((path: string, data: string, bom?: boolean) => ts.sys.writeFile(path, data, bom));
  host.writeFile = (path, data, writeByteOrderMark) => {
    if (ts.sys.readFile(path) !== data) changed.add(path);
    write(path, data, writeByteOrderMark);
  };
  ts.createSolutionBuilderWithWatch(host, projects, {}).build();
  process.on('disconnect', () => process.exit(0));
}

if (require.main === module) main(process.argv.slice(2));
