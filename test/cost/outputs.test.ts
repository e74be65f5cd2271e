/**
 * The three output formats, read back: JSON parsed, HTML parsed with node-html-parser (and checked
 * to be self-contained), XLSX re-read with exceljs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValueType, Workbook } from 'exceljs';
import { type HTMLElement, parse } from 'node-html-parser';
import type { CostReport } from '../../lib/cost/report';
import { C1, LOGS, PRICING_DIR, runCli, tempDir } from './helpers';

const out = tempDir();
afterAll(() => out.cleanup());
const NAME = 'xspot-cost-2024-03-01_2024-03-02';
const args = ['cost', '-l', LOGS, '-s', '2024-03-01', '-e', '2024-03-02', '--pricing', PRICING_DIR, '--out-dir'];

describe('GIVEN no -o', () => {
  let stdout: string[];
  beforeAll(async () => {
    const run = await runCli([...args, out.path]);
    expect(run.code).toBe(0);
    stdout = run.stdout;
  });

  test('THEN all three formats are written and named on stdout', () => {
    expect(readdirSync(out.path).sort()).toEqual([`${NAME}.html`, `${NAME}.json`, `${NAME}.xlsx`]);
    expect(stdout).toEqual([
      '2024-03-01 .. 2024-03-02 (UTC): 3 of 3 log files read; 2 controllers, 5 workers, 4 containers, 3 jobs',
      'real cost $9.28, on-demand equivalent $14.50, savings $5.22 (35.98%)',
      `wrote ${join(out.path, `${NAME}.json`)}`,
      `wrote ${join(out.path, `${NAME}.html`)}`,
      `wrote ${join(out.path, `${NAME}.xlsx`)}`,
    ]);
  });

  test('THEN the JSON is the report', () => {
    const r = JSON.parse(readFileSync(join(out.path, `${NAME}.json`), 'utf8')) as CostReport;
    expect(r).toMatchObject({
      tool: 'xspot-cdk cost',
      formatVersion: 1,
      currency: 'USD',
      discountPercent: 0,
      filter: null,
    });
    expect(r.summary.realCost).toBeCloseTo(9.2844, 6);
    expect(r.summary.onDemandCost).toBeCloseTo(14.502, 6);
    expect(r.window).toEqual({
      start: '2024-03-01T00:00:00.000Z',
      end: '2024-03-03T00:00:00.000Z',
      firstDay: '2024-03-01',
      lastDay: '2024-03-02',
    });
  });

  describe('THEN the HTML', () => {
    let html: string;
    let doc: HTMLElement;
    beforeAll(() => {
      html = readFileSync(join(out.path, `${NAME}.html`), 'utf8');
      doc = parse(html);
    });

    test('opens without network: no scripts, no external references', () => {
      expect(doc.querySelectorAll('script')).toHaveLength(0);
      expect(doc.querySelectorAll('link')).toHaveLength(0);
      expect(doc.querySelectorAll('img')).toHaveLength(0);
      expect(doc.querySelectorAll('iframe')).toHaveLength(0);
      for (const el of doc.querySelectorAll('*')) {
        for (const attr of ['src', 'href']) expect(el.getAttribute(attr)).toBeUndefined();
      }
      expect(html).not.toMatch(/url\(|@import/);
      // The only URL is the SVG namespace identifier.
      expect(html.match(/https?:\/\/[^"\s]+/g)?.every((u) => u === 'http://www.w3.org/2000/svg')).toBe(true);
    });

    test('has the summary table', () => {
      const value = (key: string) => doc.querySelector(`#summary tr[data-key="${key}"] td`);
      expect(Number(value('real-cost')?.getAttribute('data-value'))).toBeCloseTo(9.2844, 6);
      expect(value('real-cost')?.text).toBe('$9.28');
      expect(value('on-demand-equivalent')?.text).toBe('$14.50');
      expect(value('savings')?.text).toBe('$5.22');
      expect(value('savings')?.getAttribute('data-value')).toBe('5.2176');
      expect(value('containers')?.text).toBe('4');
    });

    test('charts cost vs on-demand per day', () => {
      const svg = doc.querySelector('svg#chart-daily');
      expect(svg).not.toBeNull();
      const real = svg!
        .querySelectorAll('rect.bar-real')
        .map((r) => [r.getAttribute('data-date'), Number(r.getAttribute('data-value'))]);
      const od = svg!
        .querySelectorAll('rect.bar-od')
        .map((r) => [r.getAttribute('data-date'), Number(r.getAttribute('data-value'))]);
      expect(real).toEqual([
        ['2024-03-01', 5.9244],
        ['2024-03-02', 3.36],
      ]);
      expect(od).toEqual([
        ['2024-03-01', 6.438],
        ['2024-03-02', 8.064],
      ]);
      // Taller bar for the larger on-demand figure of day 2.
      const h = (sel: string) => svg!.querySelectorAll(sel).map((r) => Number(r.getAttribute('height')));
      expect(h('rect.bar-od')[1]).toBeGreaterThan(h('rect.bar-od')[0]);
    });

    test('charts savings by instance type', () => {
      const bars = doc.querySelectorAll('svg#chart-savings rect.bar-savings');
      expect(bars.map((b) => [b.getAttribute('data-type'), Number(b.getAttribute('data-value'))])).toEqual([
        ['r5.4xlarge', 8.496],
        ['r5.xlarge', 0.7056],
        ['r5b.xlarge', 0.624],
        ['(unknown)', 0],
      ]);
    });

    test('money columns come right after the identifiers, in cents; only hourly rates show four decimals', () => {
      const heads = (id: string) => doc.querySelectorAll(`table#${id} thead th`).map((th) => th.text);
      expect(heads('controllers').slice(0, 4)).toEqual(['Controller', 'Real cost', 'On-demand cost', 'Savings']);
      expect(heads('workers').slice(0, 4)).toEqual(['Worker', 'Real cost', 'On-demand cost', 'Savings']);
      expect(heads('containers').slice(0, 4)).toEqual(['Container', 'Real cost', 'On-demand cost', 'Savings']);
      expect(heads('jobs').slice(0, 4)).toEqual(['Job', 'Real cost', 'On-demand cost', 'Savings']);
      for (const id of ['controllers', 'workers', 'containers', 'jobs']) {
        const cols = heads(id);
        for (const tr of doc.querySelectorAll(`table#${id} tbody tr`)) {
          tr.querySelectorAll('td').forEach((td, i) => {
            if (!td.text.includes('$')) return;
            // every amount in cents, every rate (USD/h) in four decimals; the exact figure in data-value
            expect(td.text).toMatch(/USD\/h/.test(cols[i]) ? /^-?\$\d[\d,]*\.\d{4}$/ : /^-?\$\d[\d,]*\.\d{2}$/);
            expect(Number(td.getAttribute('data-value'))).not.toBeNaN();
          });
        }
      }
      // the $0.7056 savings of r5.xlarge worker 1a1a1a1a shows as $0.71, its rate as $0.0756
      const w1 = doc.querySelectorAll('table#workers tbody tr')[0].querySelectorAll('td');
      expect([w1[0].text, w1[3].text, w1[3].getAttribute('data-value')]).toEqual(['1a1a1a1a', '$0.71', '0.7056']);
    });

    test('lists controllers, workers, containers and jobs', () => {
      const rows = (id: string) => doc.querySelectorAll(`table#${id} tbody tr`);
      expect(rows('controllers')).toHaveLength(2);
      expect(rows('workers')).toHaveLength(5);
      expect(rows('containers')).toHaveLength(4);
      expect(rows('jobs')).toHaveLength(3);
      // the whole id is the cell's text (search, copy); CSS cuts it short on screen, the tooltip shows it
      const first = rows('containers')[0].querySelectorAll('td')[0];
      expect(first.text).toBe(C1);
      expect(first.getAttribute('title')).toBe(C1);
      expect(first.classList.contains('id')).toBe(true);
      expect(doc.querySelectorAll('#warnings li').map((li) => li.text)[1]).toBe(
        'no instance type for: 5eed5eed (controller i-0b22b22b22b22b22b)',
      );
      // Text from the logs is escaped.
      expect(html).toContain('{&quot;WorkerID&quot;:&quot;deadbeef&quot;');
    });
  });

  describe('THEN the XLSX', () => {
    let wb: Workbook;
    beforeAll(async () => {
      wb = new Workbook();
      await wb.xlsx.readFile(join(out.path, `${NAME}.xlsx`));
    });

    const rows = (name: string) => {
      const ws = wb.getWorksheet(name)!;
      const data: unknown[][] = [];
      ws.eachRow((row) => {
        data.push((row.values as unknown[]).slice(1));
      });
      return data;
    };

    test('has the sheets', () => {
      expect(wb.worksheets.map((w) => w.name)).toEqual([
        'Summary',
        'Cost',
        'Controllers',
        'Workers',
        'Containers',
        'Jobs',
        'Instance types',
      ]);
    });

    test('Summary holds the totals as numbers', () => {
      const summary = new Map(rows('Summary').map(([k, v]) => [k, v]));
      expect(summary.get('Real cost (USD)')).toBeCloseTo(9.2844, 6);
      expect(summary.get('On-demand cost (USD)')).toBeCloseTo(14.502, 6);
      expect(summary.get('Savings (USD)')).toBeCloseTo(5.2176, 6);
      expect(summary.get('Savings (%)')).toBe(35.98);
      expect(summary.get('Containers')).toBe(4);
      expect(wb.getWorksheet('Summary')!.getCell('B7').numFmt).toBe('"$"#,##0.00');
      // days and times are dates with a date format, not text
      expect(summary.get('Window start (UTC)')).toEqual(new Date('2024-03-01T00:00:00.000Z'));
      expect(wb.getWorksheet('Summary')!.getCell('B3').numFmt).toBe('yyyy-mm-dd');
      expect(summary.get('Generated (UTC)')).toBeInstanceOf(Date);
    });

    test('Cost has one row per day', () => {
      expect(rows('Cost')).toEqual([
        ['Date (UTC)', 'Real cost (USD)', 'On-demand cost (USD)', 'Savings (USD)'],
        [new Date('2024-03-01T00:00:00.000Z'), 5.9244, 6.438, 0.5136],
        [new Date('2024-03-02T00:00:00.000Z'), 3.36, 8.064, 4.704],
      ]);
      const cost = wb.getWorksheet('Cost')!;
      expect(cost.getCell('A2').numFmt).toBe('yyyy-mm-dd');
      expect(cost.getCell('B2').numFmt).toBe('"$"#,##0.00');
    });

    test('Controllers, Workers, Containers hold the rows, times as dates', () => {
      const ctrl = rows('Controllers');
      expect(ctrl).toHaveLength(3);
      expect(ctrl[1].slice(0, 4)).toEqual(['i-0a11a11a11a11a11a', 'i-0a11a11a11a11a11a', 'us-east-1', 'm5.xlarge']);
      expect(ctrl[2][4]).toEqual(new Date('2024-03-01T10:00:00.000Z'));
      const workers = rows('Workers');
      expect(workers.map((w) => w[0])).toEqual(['Worker', '1a1a1a1a', '2b2b2b2b', '3c3c3c3c', '5eed5eed', '4d4d4d4d']);
      expect(workers[1].slice(-3)).toEqual([0.3024, 1.008, 0.7056]);
      // Spot is a boolean cell; rates keep four decimals, amounts show cents
      expect(workers.slice(1).map((w) => w[4])).toEqual([true, false, true, true, true]);
      const ws = wb.getWorksheet('Workers')!;
      expect(ws.getCell('E2').type).toBe(ValueType.Boolean);
      expect(ws.getCell('F2').numFmt).toBe('"$"#,##0.0000');
      expect(ws.getCell('L2').numFmt).toBe('"$"#,##0.00');
      const containers = rows('Containers');
      expect(containers[1].slice(0, 4)).toEqual([C1, 'i-0a11a11a11a11a11a', '1001', 4]);
      expect(containers[1][7]).toBe('1a1a1a1a, 3c3c3c3c');
      expect(containers[1].slice(-3)).toEqual([0.3942, 1.31, 0.9158]);
    });
  });
});

describe('GIVEN -o html,xlsx -f <prefix>', () => {
  test('THEN only those formats are written, named after the filter, with a Lifetime section and sheet', async () => {
    const dir = tempDir();
    try {
      const run = await runCli([...args, dir.path, '-o', 'html,xlsx', '-f', '3f2a']);
      expect(run.code).toBe(0);
      const name = 'xspot-cost-2024-03-01_2024-03-02-containerLife-3f2a';
      expect(readdirSync(dir.path).sort()).toEqual([`${name}.html`, `${name}.xlsx`]);
      const doc = parse(readFileSync(join(dir.path, `${name}.html`), 'utf8'));
      expect(doc.querySelectorAll('table#lifetime tbody tr').map((tr) => tr.querySelectorAll('td')[1].text)).toEqual([
        '1a1a1a1a',
        '3c3c3c3c',
      ]);
      const wb = new Workbook();
      await wb.xlsx.readFile(join(dir.path, `${name}.xlsx`));
      const lifetime = wb.getWorksheet('Lifetime')!;
      expect(lifetime.rowCount).toBe(3);
      expect(lifetime.getRow(3).getCell(2).value).toBe('3c3c3c3c');
      expect(lifetime.getRow(3).getCell(8).value).toBeCloseTo(0.18, 6); // 2 h x 0.09
    } finally {
      dir.cleanup();
    }
  });

  test('THEN -o json writes only the JSON', async () => {
    const dir = tempDir();
    try {
      const run = await runCli([...args, dir.path, '-o', 'json', '-j', '2001']);
      expect(run.code).toBe(0);
      expect(readdirSync(dir.path)).toEqual(['xspot-cost-2024-03-01_2024-03-02-job-2001.json']);
    } finally {
      dir.cleanup();
    }
  });
});
