/**
 * The HTML cost report as people read it, in a real browser: Debian's chromium (headless, driven by
 * playwright-core) opens the report of the fixture logs at 1280 x 900 and every table fits the window
 * (no horizontal scrolling), with Real cost, On-demand cost and Savings on screen. A full-page
 * screenshot is written next to the report for a person to look at when this fails.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { LOGS, PRICING_DIR, runCli, tempDir } from './helpers';

const CHROMIUM = process.env.XSPOT_CHROMIUM || '/usr/bin/chromium';
const WIDTH = 1280;

const out = tempDir('xspot-cost-layout-');
let browser: Browser;

beforeAll(async () => {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: install Debian's chromium (bash scripts/install-test-deps.sh)`);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  out.cleanup();
});

interface TableBox {
  readonly id: string;
  readonly right: number;
  readonly overflow: number;
  readonly money: { readonly head: string; readonly right: number }[];
}

/** Runs in the page (plain JavaScript: the test's TypeScript has no DOM types). */
const MEASURE = `(() => ({
  pageWidth: document.documentElement.scrollWidth,
  tables: [...document.querySelectorAll('table:not(#summary)')].map((t) => {
    const box = t.parentElement;
    return {
      id: t.id,
      right: Math.ceil(t.getBoundingClientRect().right),
      overflow: box.scrollWidth - box.clientWidth,
      money: [...t.querySelectorAll('thead th')]
        .filter((th) => ['Real cost', 'On-demand cost', 'Savings'].includes(th.textContent))
        .map((th) => ({ head: th.textContent, right: Math.ceil(th.getBoundingClientRect().right) })),
    };
  }),
}))()`;

async function layout(args: string[]): Promise<{ tables: TableBox[]; pageWidth: number; shot: Buffer }> {
  const dir = fs.mkdtempSync(path.join(out.path, 'run-'));
  const run = await runCli([
    'cost',
    '-l',
    LOGS,
    '-s',
    '2024-03-01',
    '-e',
    '2024-03-02',
    '--pricing',
    PRICING_DIR,
    '--out-dir',
    dir,
    '-o',
    'html',
    ...args,
  ]);
  expect(run.code).toBe(0);
  const file = path.join(dir, fs.readdirSync(dir).find((f) => f.endsWith('.html'))!);
  const page = await browser.newPage({ viewport: { width: WIDTH, height: 900 } });
  try {
    await page.goto(`file://${file}`);
    const measured = (await page.evaluate(MEASURE)) as { pageWidth: number; tables: TableBox[] };
    const shot = await page.screenshot({ fullPage: true, path: file.replace(/\.html$/, '.png') });
    return { ...measured, shot };
  } finally {
    await page.close();
  }
}

test.each([
  ['the whole report', [] as string[]],
  ['one container over its life (the Lifetime table too)', ['-f', '3f2a']],
])('%s fits a 1280 px window: no table scrolls sideways, the money columns are on screen', async (_what, args) => {
  const { tables, pageWidth, shot } = await layout(args);
  expect(tables.map((t) => t.id)).toEqual(
    expect.arrayContaining(['controllers', 'workers', 'containers', 'jobs', ...(args.length ? ['lifetime'] : [])]),
  );
  expect(pageWidth).toBeLessThanOrEqual(WIDTH);
  for (const t of tables) {
    expect({ id: t.id, overflow: t.overflow, fits: t.right <= WIDTH }).toEqual({ id: t.id, overflow: 0, fits: true });
    if (['controllers', 'workers', 'containers', 'jobs', 'lifetime'].includes(t.id)) {
      expect(t.money.map((m) => m.head)).toEqual(['Real cost', 'On-demand cost', 'Savings']);
      for (const m of t.money) expect(m.right).toBeLessThanOrEqual(WIDTH);
    }
  }
  // a real screenshot of the page at that width (PNG signature, IHDR width)
  expect(shot.subarray(1, 4).toString()).toBe('PNG');
  expect(shot.readUInt32BE(16)).toBe(WIDTH);
});
