// Runs before `npm start` and `npm test`: on a fresh clone (or after the lockfile
// changed) installs exactly what package-lock.json says, so those two commands are
// all a newcomer needs. Plain Node on purpose: nothing is installed yet when it runs.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');

const stale = !existsSync(installed) || statSync(lock).mtimeMs > statSync(installed).mtimeMs;
if (stale) {
  process.stderr.write('burnback: dependencies are missing or older than package-lock.json; running npm ci\n');
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const result = spawnSync(npm, ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write(`burnback: npm ci failed (exit ${result.status ?? result.signal}); see the output above\n`);
    process.exit(result.status ?? 1);
  }
}
