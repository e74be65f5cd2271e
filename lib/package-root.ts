/**
 * The package root (holds package.json and config/), from either the TypeScript sources or dist/.
 * A file of its own, with no imports beyond node's: the CLI needs it at start-up (its version)
 * and must not load the config schema for that.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'config'))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error('cannot find the xspot-cdk package root');
    dir = up;
  }
}
