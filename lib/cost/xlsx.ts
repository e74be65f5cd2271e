/**
 * The cost report as an Excel workbook (exceljs): sheets Summary, Cost (per day), Controllers,
 * Workers, Containers, Jobs, Instance types, and Lifetime with -f/-j. Money cells hold numbers
 * (USD) with a currency format (cents; four decimals for hourly rates); days and times are Date cells
 * in UTC with a date format; Spot is a boolean cell.
 */
import type { Workbook, Worksheet } from 'exceljs';
import type { CostReport, SegmentRow } from './report';

/** Amounts in dollars and cents; the cell holds the exact figure. */
const USD = '"$"#,##0.00';
/** Hourly rates, the one place four decimals are shown. */
const RATE = '"$"#,##0.0000';
const TIME = 'yyyy-mm-dd hh:mm:ss';
const DAY = 'yyyy-mm-dd';
const HOURS = '0.0000';

interface Column<T> {
  readonly header: string;
  readonly width: number;
  readonly value: (row: T) => string | number | boolean | Date | null;
  readonly format?: string;
}

function sheet<T>(wb: Workbook, name: string, columns: readonly Column<T>[], rows: readonly T[]): Worksheet {
  const ws = wb.addWorksheet(name, { views: [{ state: 'frozen', ySplit: 1 }] });
  ws.columns = columns.map((c) => ({ header: c.header, width: c.width, style: c.format ? { numFmt: c.format } : {} }));
  ws.getRow(1).font = { bold: true };
  for (const r of rows) ws.addRow(columns.map((c) => c.value(r)));
  return ws;
}

const date = (iso: string) => new Date(iso);

const money = <T extends { realCost: number; onDemandCost: number; savings: number }>(): Column<T>[] => [
  { header: 'Real cost (USD)', width: 16, value: (r) => r.realCost, format: USD },
  { header: 'On-demand cost (USD)', width: 20, value: (r) => r.onDemandCost, format: USD },
  { header: 'Savings (USD)', width: 16, value: (r) => r.savings, format: USD },
];

const segmentColumns: Column<SegmentRow>[] = [
  { header: 'Container', width: 20, value: (r) => r.containerId },
  { header: 'Worker', width: 14, value: (r) => r.workerId },
  { header: 'Instance type', width: 16, value: (r) => r.instanceType },
  { header: 'Spot', width: 8, value: (r) => r.spot },
  { header: 'Start (UTC)', width: 20, value: (r) => date(r.start), format: TIME },
  { header: 'End (UTC)', width: 20, value: (r) => date(r.end), format: TIME },
  { header: 'Hours', width: 10, value: (r) => r.hours, format: HOURS },
  ...money<SegmentRow>(),
];

async function excel(): Promise<typeof import('exceljs')> {
  const mod = (await import('exceljs')) as typeof import('exceljs') & { default?: typeof import('exceljs') };
  return mod.Workbook !== undefined ? mod : mod.default!;
}

export async function buildWorkbook(report: CostReport): Promise<Workbook> {
  const { Workbook } = await excel();
  const wb = new Workbook();
  wb.creator = 'xspot-cdk cost';
  wb.created = new Date(report.generatedAt);
  const s = report.summary;
  const f = report.filter;
  const summaryRows: [string, string | number | Date, string?][] = [
    ['Logs', report.logs],
    ['Window start (UTC)', date(report.window.firstDay), DAY],
    ['Window end (UTC)', date(report.window.lastDay), DAY],
    ['Discount off on-demand (%)', report.discountPercent],
    ['Filter', f === null ? 'none' : `${f.flag} ${f.value} (${f.containers.length} containers)`],
    ['Real cost (USD)', s.realCost, USD],
    ['On-demand cost (USD)', s.onDemandCost, USD],
    ['Savings (USD)', s.savings, USD],
    ['Savings (%)', s.savingsPercent, '0.00'],
    ['Controller cost (USD)', s.controllerCost, USD],
    ['Controller hours', s.controllerHours, HOURS],
    ['Worker cost (USD)', s.workerCost, USD],
    ['Worker on-demand cost (USD)', s.workerOnDemandCost, USD],
    ['Worker hours', s.workerHours, HOURS],
    ['Spot worker hours', s.spotWorkerHours, HOURS],
    ['On-demand worker hours', s.onDemandWorkerHours, HOURS],
    ['Idle worker cost (USD)', s.idleWorkerCost, USD],
    ['Container cost (USD)', s.containerCost, USD],
    ['Controllers', s.controllers],
    ['Workers', s.workers],
    ['Spot workers', s.spotWorkers],
    ['On-demand workers', s.onDemandWorkers],
    ['Containers', s.containers],
    ['Jobs', s.jobs],
    ['Log files found', report.files.found],
    ['Log files read', report.files.read],
    ['Log files outside the window', report.files.outsideWindow],
    ['Log files without timestamps', report.files.invalid],
    ['Warnings', report.warnings.count],
    ['Generated (UTC)', date(report.generatedAt), TIME],
  ];
  const summary = wb.addWorksheet('Summary');
  summary.columns = [
    { header: 'Field', width: 30 },
    { header: 'Value', width: 40 },
  ];
  summary.getRow(1).font = { bold: true };
  for (const [k, v, fmt] of summaryRows) {
    const row = summary.addRow([k, v]);
    if (fmt) row.getCell(2).numFmt = fmt;
  }

  sheet(
    wb,
    'Cost',
    [
      { header: 'Date (UTC)', width: 12, value: (r) => date(r.date), format: DAY },
      ...money<(typeof report.daily)[number]>(),
    ],
    report.daily,
  );
  sheet(
    wb,
    'Controllers',
    [
      { header: 'Controller', width: 22, value: (r) => r.name },
      { header: 'Log directory', width: 22, value: (r) => r.id },
      { header: 'Region', width: 12, value: (r) => r.region },
      { header: 'Instance type', width: 14, value: (r) => r.instanceType },
      { header: 'Start (UTC)', width: 20, value: (r) => date(r.start), format: TIME },
      { header: 'End (UTC)', width: 20, value: (r) => date(r.end), format: TIME },
      { header: 'Hours', width: 10, value: (r) => r.hours, format: HOURS },
      { header: 'Rate (USD/h)', width: 12, value: (r) => r.rate, format: RATE },
      { header: 'Controller cost (USD)', width: 20, value: (r) => r.controllerCost, format: USD },
      { header: 'Workers', width: 9, value: (r) => r.workers },
      { header: 'Worker cost (USD)', width: 18, value: (r) => r.workerCost, format: USD },
      { header: 'Worker on-demand cost (USD)', width: 26, value: (r) => r.workerOnDemandCost, format: USD },
      ...money<(typeof report.controllers)[number]>(),
    ],
    report.controllers,
  );
  sheet(
    wb,
    'Workers',
    [
      { header: 'Worker', width: 12, value: (r) => r.id },
      { header: 'Controller', width: 22, value: (r) => r.controller },
      { header: 'Instance id', width: 22, value: (r) => r.instanceId },
      { header: 'Instance type', width: 14, value: (r) => r.instanceType },
      { header: 'Spot', width: 7, value: (r) => r.spot },
      { header: 'Rate paid (USD/h)', width: 16, value: (r) => r.rate, format: RATE },
      { header: 'On-demand rate (USD/h)', width: 20, value: (r) => r.onDemandRate, format: RATE },
      { header: 'Start (UTC)', width: 20, value: (r) => date(r.start), format: TIME },
      { header: 'End (UTC)', width: 20, value: (r) => date(r.end), format: TIME },
      { header: 'Hours', width: 10, value: (r) => r.hours, format: HOURS },
      { header: 'Containers', width: 11, value: (r) => r.containers },
      { header: 'Idle cost (USD)', width: 14, value: (r) => r.idleCost, format: USD },
      ...money<(typeof report.workers)[number]>(),
    ],
    report.workers,
  );
  sheet(
    wb,
    'Containers',
    [
      { header: 'Container', width: 20, value: (r) => r.id },
      { header: 'Controller', width: 22, value: (r) => r.controller },
      { header: 'Job', width: 12, value: (r) => r.jobId },
      { header: 'vCPUs', width: 7, value: (r) => r.cpu },
      { header: 'Start (UTC)', width: 20, value: (r) => date(r.start), format: TIME },
      { header: 'End (UTC)', width: 20, value: (r) => date(r.end), format: TIME },
      { header: 'Hours', width: 10, value: (r) => r.hours, format: HOURS },
      { header: 'Workers', width: 24, value: (r) => r.workers.join(', ') },
      { header: 'Migrations', width: 11, value: (r) => r.migrations },
      ...money<(typeof report.containers)[number]>(),
    ],
    report.containers,
  );
  sheet(
    wb,
    'Jobs',
    [
      { header: 'Job', width: 14, value: (r) => r.id },
      { header: 'Containers', width: 30, value: (r) => r.containers.join(', ') },
      { header: 'Start (UTC)', width: 20, value: (r) => date(r.start), format: TIME },
      { header: 'End (UTC)', width: 20, value: (r) => date(r.end), format: TIME },
      { header: 'Hours', width: 10, value: (r) => r.hours, format: HOURS },
      ...money<(typeof report.jobs)[number]>(),
    ],
    report.jobs,
  );
  sheet(
    wb,
    'Instance types',
    [
      { header: 'Instance type', width: 16, value: (r) => r.instanceType ?? '(unknown)' },
      { header: 'Workers', width: 9, value: (r) => r.workers },
      { header: 'Hours', width: 10, value: (r) => r.hours, format: HOURS },
      ...money<(typeof report.byInstanceType)[number]>(),
    ],
    report.byInstanceType,
  );
  if (report.lifetime !== null) sheet(wb, 'Lifetime', segmentColumns, report.lifetime);
  return wb;
}

export async function renderXlsx(report: CostReport): Promise<Buffer> {
  const wb = await buildWorkbook(report);
  return Buffer.from((await wb.xlsx.writeBuffer()) as ArrayBuffer);
}
