/**
 * The real terminal prompts of `xspot-cdk init` (@inquirer/prompts), driven through a stream the way
 * a terminal sends keys: each answer is typed once its question is on screen. Runs the compiled CLI
 * in a child node (the prompts are an ES module, which Jest's CommonJS runtime cannot load).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ROOT, runCli } from '../support/cli';

let tmp: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'xspot-init-term-'));
  runCli(['--version']); // builds dist/ when missing
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const DOWN = '\u001b[B';

/**
 * Runs `body` (JavaScript with `prompter` and `runInit` in scope) in a child node whose prompter reads
 * a stream: each [question, keys] step types `keys` once `question` has been shown. Prints the result.
 */
function drive(steps: [string, string][], body: string): { result: unknown; screen: string } {
  const script = `
    const { PassThrough, Writable } = require('node:stream');
    const { terminalPrompter, runInit } = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib', 'cli', 'init.js'))});
    const steps = ${JSON.stringify(steps)};
    const input = new PassThrough();
    let screen = '';
    let seen = 0;
    const output = new Writable({
      write(chunk, _enc, done) {
        screen += chunk;
        const plain = screen.replace(/\\u001b\\[[0-9;?]*[A-Za-z]/g, '');
        if (steps.length > 0 && plain.indexOf(steps[0][0], seen) >= 0) {
          seen = plain.indexOf(steps[0][0], seen) + steps[0][0].length;
          const keys = steps.shift()[1];
          setTimeout(() => input.write(keys), 20);
        }
        done();
      },
    });
    // a terminal's stdin keeps node running between two questions, and the prompts' end() of their
    // output leaves process.stderr open; a plain stream needs both done by hand
    setInterval(() => {}, 1000);
    output.end = function () { return this; };
    (async () => {
      const prompter = await terminalPrompter({ input, output });
      const result = await (async () => { ${body} })();
      process.stdout.write(JSON.stringify({ result, left: steps.map((s) => s[0]), screen: screen.replace(/\\u001b\\[[0-9;?]*[A-Za-z]/g, '') }));
      process.exit(0);
    })().catch((e) => { process.stderr.write(String(e && e.stack || e)); process.exit(1); });
  `;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: tmp, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr}`);
  const out = JSON.parse(r.stdout) as { result: unknown; left: string[]; screen: string };
  expect(out.left).toEqual([]);
  return { result: out.result, screen: out.screen };
}

test('typed answers, defaults taken with Enter, a select moved with the arrow keys: the file has them', () => {
  const file = path.join(tmp, 'typed.yaml');
  const { result } = drive(
    [
      ['Deployment name', 'hpc-east\r'],
      ['AWS region', '\r'],
      ['VPC in us-east-1', '\r'],
      ['CIDR block of the new VPC', '\r'],
      ['Availability zones', 'us-east-1a,us-east-1b\r'],
      ['Scheduler', `${DOWN}\r`],
      ['Controller image id', 'ami-0abcdef0123456789\r'],
      ['Controller instance type', '\r'],
      ['Controllers (desired count)', '2\r'],
      ['Worker instance families', '\r'],
    ],
    `const r = await runInit(${JSON.stringify(file)}, { aws: false, region: undefined }, { interactive: true, prompter, io: { out() {}, err() {} }, env: {} });
     return r.choices;`,
  );
  expect(result).toMatchObject({
    name: 'hpc-east',
    region: 'us-east-1',
    network: { kind: 'new', cidr: '10.0.0.0/16', availabilityZones: ['us-east-1a', 'us-east-1b'] },
    scheduler: 'gridengine',
    controllerAmi: 'ami-0abcdef0123456789',
    controllerType: 'm5d.xlarge',
    controllers: 2,
  });
  const written = parse(fs.readFileSync(file, 'utf8'));
  expect(written.controllers).toMatchObject({ amiId: 'ami-0abcdef0123456789', desiredCapacity: 2, maxCapacity: 4 });
});

test('a bad answer is refused on screen with what is allowed, and the question stays until a good one', () => {
  const { result, screen } = drive(
    [
      ['Deployment name', 'My Site\r'],
      ['must be lowercase letters', '\u0015hpc\r'],
    ],
    `return prompter.input({ message: 'Deployment name', validate: (v) => /^[a-z][a-z0-9-]*$/.test(v) || 'must be lowercase letters, digits and "-"' });`,
  );
  expect(result).toBe('hpc');
  expect(screen).toContain('must be lowercase letters');
});

test('a checkbox: pre-checked choices, toggled with space, its validation sees the picked values', () => {
  const { result, screen } = drive(
    [
      ['Private subnets', ' \r'],
      ['pick at least one', ' \r'],
    ],
    `return prompter.checkbox({
       message: 'Private subnets',
       choices: [{ name: 'subnet-a (NAT)', value: 'subnet-a', checked: true }, { name: 'subnet-b (public)', value: 'subnet-b' }],
       // values, not the prompt's choice objects: a wrong adapter would refuse every answer
       validate: (values) => (values.length > 0 && values.every((v) => v === 'subnet-a' || v === 'subnet-b')) || 'pick at least one',
     });`,
  );
  // space unchecked the pre-checked subnet-a, Enter was refused, space checked it again
  expect(result).toEqual(['subnet-a']);
  expect(screen).toContain('pick at least one');
});
