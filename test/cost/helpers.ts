import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { registerCostCommand } from '../../lib/cli/cost';
import { reportError } from '../../lib/errors';

export const FIXTURES = join(__dirname, '..', 'fixtures', 'cost');
export const LOGS = join(FIXTURES, 'logs');
export const PRICING_DIR = join(FIXTURES, 'pricing');

/** The four containers of the fixture logs (see test/fixtures/cost/README.md). */
export const C1 = '3f2a9c1d7b6e5a4f00112233445566778899aabbccddeeff0011223344556677';
export const C2 = '3f2b0e8a9d1c2b3a44556677889900aabbccddeeff00112233445566778899aa';
export const C3 = '9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b';
export const C4 = 'c0ffee0012345678c0ffee0012345678c0ffee0012345678c0ffee0012345678';

export function tempDir(prefix = 'xspot-cost-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

export interface CliRun {
  readonly code: number;
  readonly stdout: string[];
  readonly stderr: string[];
}

/** Runs `xspot-cdk cost ...` in-process the way bin/cli.ts does, capturing output lines. */
export async function runCli(argv: string[]): Promise<CliRun> {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const split = (sink: string[]) => (chunk: string | Uint8Array) => {
    sink.push(
      ...String(chunk)
        .split('\n')
        .filter((l) => l !== ''),
    );
    return true;
  };
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(split(stdout) as typeof process.stdout.write);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(split(stderr) as typeof process.stderr.write);
  let code = 0;
  try {
    const program = new Command('xspot-cdk').exitOverride();
    program.configureOutput({ writeOut: (s) => stdout.push(s), writeErr: (s) => stderr.push(s.trimEnd()) });
    registerCostCommand(program);
    program.commands.forEach((c) => {
      c.exitOverride();
      c.configureOutput({ writeOut: (s) => stdout.push(s), writeErr: (s) => stderr.push(s.trimEnd()) });
    });
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    code = e instanceof CommanderError ? e.exitCode : reportError(e, (l) => stderr.push(l));
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
  return { code, stdout, stderr };
}
