/**
 * Every subcommand stays lazy: building the CLI for one command (what `xspot-cdk <command> ...` does
 * before parsing) loads neither the CDK nor an AWS SDK client nor any other command's heavy
 * dependencies; they are required inside the actions that use them.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, runCli } from '../support/cli';

const HEAVY =
  /node_modules\/(aws-cdk-lib|@aws-sdk\/client-[a-z0-9-]+|exceljs|@aws-cdk\/cloudformation-diff|@inquirer\/[a-z]+|playwright-core)\//;
const COMMANDS = ['check-config', 'render', 'schema', 'cost', 'ami', 'fleet', 'scheduler', 'local', 'diff', 'init'];

/**
 * The heavy packages loaded, in a fresh node, by building the program for `command`, or (with `run`)
 * by running those arguments to the end.
 */
function heavyLoaded(command: string, run?: readonly string[]): string[] {
  runCli(['--version']); // builds dist/ when missing
  const cli = JSON.stringify(path.join(ROOT, 'dist', 'bin', 'cli.js'));
  const script = `
    const { buildProgram, main } = require(${cli});
    const done = () => {
      const re = ${HEAVY};
      const hit = Object.keys(require.cache).map((k) => re.exec(k)?.[1]).filter(Boolean);
      process.stdout.write(JSON.stringify([...new Set(hit)]));
    };
    ${run ? `main(${JSON.stringify(run)}).then(done);` : `buildProgram(${JSON.stringify(command)}); done();`}
  `;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout.slice(r.stdout.lastIndexOf('[')));
}

test.each(COMMANDS)('%s: no CDK, AWS SDK or other heavy module is loaded before its action runs', (command) => {
  expect(heavyLoaded(command)).toEqual([]);
});

test('the list covers every top-level command', () => {
  const help = runCli(['--help']).stdout;
  const listed = [...help.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((m) => m[1]).filter((c) => c !== 'help');
  expect(listed.sort()).toEqual([...COMMANDS].sort());
});

test('check-config, render and schema run to the end without loading the CDK or an AWS SDK client', () => {
  const out = path.join(os.tmpdir(), `xspot-lazy-${process.pid}`);
  try {
    expect(heavyLoaded('check-config', ['check-config', '-c', 'config/default.yaml'])).toEqual([]);
    expect(heavyLoaded('render', ['render', '-c', 'config/default.yaml', '-o', out])).toEqual([]);
    expect(heavyLoaded('schema', ['schema'])).toEqual([]);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
