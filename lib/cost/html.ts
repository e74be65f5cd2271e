/**
 * The cost report as one self-contained HTML page: inline CSS, two inline SVG charts drawn here
 * (cost vs on-demand per day; savings by instance type), and the tables. No scripts, no network.
 * Every cell with a figure carries its exact value in `data-value`.
 */
import type { CostReport, DailyRow, InstanceTypeRow, SegmentRow } from './report';

export function esc(v: unknown): string {
  return String(v ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function dollars(v: number, digits: number): string {
  const [int, frac] = Math.abs(v).toFixed(digits).split('.');
  const sign = v < 0 && Number(`${int}.${frac}`) !== 0 ? '-' : '';
  return `${sign}$${int.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${frac}`;
}

/** An amount: `$1,234.56`, in cents (the exact figure is in the cell's `data-value`). */
export function usd(v: number): string {
  return dollars(v, 2);
}

/** An hourly rate, the one place four decimals are shown: `$0.7056`. */
export function usdRate(v: number): string {
  return dollars(v, 4);
}

const time = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
/** A table cell's time, to the minute (the full time is in `data-value` and the tooltip). */
const shortTime = (iso: string) => iso.slice(0, 16).replace('T', ' ');

/** A round step for an axis that spans `max` in about `ticks` steps. */
function niceStep(max: number, ticks: number): number {
  if (max <= 0) return 1;
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

const COLOR_REAL = '#1f6feb';
const COLOR_OD = '#b8c4d6';
const COLOR_SAVE = '#2da44e';
const COLOR_LOSS = '#cf222e';

/** Grouped bars per day: on-demand equivalent (light) beside real cost (dark). */
export function dailyChart(rows: readonly DailyRow[]): string {
  const W = 900;
  const H = 300;
  const left = 70;
  const right = 16;
  const top = 34;
  const bottom = 46;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const max = Math.max(0, ...rows.flatMap((r) => [r.realCost, r.onDemandCost]));
  const step = niceStep(max, 5);
  const top$ = Math.max(step, Math.ceil(max / step) * step);
  const y = (v: number) => top + plotH - (Math.max(0, v) / top$) * plotH;
  const slot = plotW / Math.max(1, rows.length);
  const bar = Math.max(1, Math.min(24, slot * 0.38));
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-daily" viewBox="0 0 ${W} ${H}" role="img" aria-label="Cost vs on-demand per day">`,
    `<title>Cost vs on-demand per day (USD)</title>`,
  );
  for (let v = 0; v <= top$ + 1e-9; v += step) {
    const yy = y(v).toFixed(1);
    parts.push(
      `<line x1="${left}" x2="${W - right}" y1="${yy}" y2="${yy}" class="grid" stroke="#eaeef2"/>`,
      `<text x="${left - 6}" y="${yy}" class="tick" font-size="11" fill="#57606a" font-family="sans-serif" text-anchor="end" dominant-baseline="middle">${esc(usd(v))}</text>`,
    );
  }
  const labelEvery = Math.max(1, Math.ceil(rows.length / 12));
  rows.forEach((r, i) => {
    const x0 = left + i * slot + slot / 2;
    parts.push(
      `<rect class="bar-od" x="${(x0 - bar).toFixed(1)}" y="${y(r.onDemandCost).toFixed(1)}" width="${bar.toFixed(1)}" height="${(top + plotH - y(r.onDemandCost)).toFixed(1)}" fill="${COLOR_OD}" data-date="${esc(r.date)}" data-value="${r.onDemandCost}"><title>${esc(r.date)} on-demand ${esc(usd(r.onDemandCost))}</title></rect>`,
      `<rect class="bar-real" x="${x0.toFixed(1)}" y="${y(r.realCost).toFixed(1)}" width="${bar.toFixed(1)}" height="${(top + plotH - y(r.realCost)).toFixed(1)}" fill="${COLOR_REAL}" data-date="${esc(r.date)}" data-value="${r.realCost}"><title>${esc(r.date)} real ${esc(usd(r.realCost))}</title></rect>`,
    );
    if (i % labelEvery === 0) {
      parts.push(
        `<text x="${x0.toFixed(1)}" y="${H - bottom + 16}" class="tick" font-size="11" fill="#57606a" font-family="sans-serif" text-anchor="middle">${esc(r.date.slice(5))}</text>`,
      );
    }
  });
  parts.push(
    `<line x1="${left}" x2="${W - right}" y1="${top + plotH}" y2="${top + plotH}" class="axis" stroke="#57606a"/>`,
    `<rect x="${left}" y="8" width="12" height="12" fill="${COLOR_OD}"/><text x="${left + 18}" y="18" class="tick" font-size="11" fill="#57606a" font-family="sans-serif">On-demand equivalent</text>`,
    `<rect x="${left + 180}" y="8" width="12" height="12" fill="${COLOR_REAL}"/><text x="${left + 198}" y="18" class="tick" font-size="11" fill="#57606a" font-family="sans-serif">Real cost</text>`,
    `<text x="${left + plotW / 2}" y="${H - 8}" class="tick" font-size="11" fill="#57606a" font-family="sans-serif" text-anchor="middle">day (UTC)</text>`,
    '</svg>',
  );
  return parts.join('\n');
}

/** Horizontal bars of savings per instance type; losses (negative savings) go left, in red. */
export function savingsChart(rows: readonly InstanceTypeRow[]): string {
  const W = 900;
  const rowH = 26;
  const top = 16;
  const labelW = 150;
  const valueW = 110;
  const H = top * 2 + Math.max(1, rows.length) * rowH;
  const plotW = W - labelW - valueW;
  const maxPos = Math.max(0, ...rows.map((r) => r.savings));
  const maxNeg = Math.max(0, ...rows.map((r) => -r.savings));
  const span = maxPos + maxNeg || 1;
  const zero = labelW + (maxNeg / span) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="chart-savings" viewBox="0 0 ${W} ${H}" role="img" aria-label="Savings by instance type">`,
    `<title>Savings by instance type (USD)</title>`,
  ];
  if (rows.length === 0)
    parts.push(
      `<text x="${W / 2}" y="${top + 12}" class="tick" font-size="11" fill="#57606a" font-family="sans-serif" text-anchor="middle">no workers</text>`,
    );
  rows.forEach((r, i) => {
    const yy = top + i * rowH;
    const w = (Math.abs(r.savings) / span) * plotW;
    const x = r.savings >= 0 ? zero : zero - w;
    const name = r.instanceType ?? '(unknown)';
    parts.push(
      `<text x="${labelW - 8}" y="${yy + rowH / 2}" class="tick" font-size="11" fill="#57606a" font-family="sans-serif" text-anchor="end" dominant-baseline="middle">${esc(name)}</text>`,
      `<rect class="bar-savings" x="${x.toFixed(1)}" y="${yy + 4}" width="${Math.max(0.5, w).toFixed(1)}" height="${rowH - 8}" fill="${r.savings >= 0 ? COLOR_SAVE : COLOR_LOSS}" data-type="${esc(name)}" data-value="${r.savings}"><title>${esc(name)}: savings ${esc(usd(r.savings))} (real ${esc(usd(r.realCost))}, on-demand ${esc(usd(r.onDemandCost))})</title></rect>`,
      `<text x="${W - valueW + 8}" y="${yy + rowH / 2}" class="tick" font-size="11" fill="#57606a" font-family="sans-serif" dominant-baseline="middle">${esc(usd(r.savings))}</text>`,
    );
  });
  parts.push(
    `<line x1="${zero.toFixed(1)}" x2="${zero.toFixed(1)}" y1="${top - 4}" y2="${H - top + 4}" class="axis" stroke="#57606a"/>`,
    '</svg>',
  );
  return parts.join('\n');
}

interface Col<T> {
  readonly head: string;
  readonly cell: (r: T) => string | number | boolean | null;
  /**
   * money: an amount in cents; rate: USD per hour, 4 decimals; hours: 2 decimals; time: to the
   * minute; id: a long identifier, cut short on screen (the cell's text stays whole, for search and
   * copy); list: text that may wrap; otherwise as is.
   */
  readonly kind?: 'money' | 'rate' | 'hours' | 'time' | 'id' | 'list';
}

function td<T>(c: Col<T>, v: string | number | boolean | null): string {
  if (c.kind === 'money' && typeof v === 'number') return `<td class="num money" data-value="${v}">${esc(usd(v))}</td>`;
  if (c.kind === 'rate' && typeof v === 'number') return `<td class="num" data-value="${v}">${esc(usdRate(v))}</td>`;
  if (c.kind === 'hours' && typeof v === 'number') return `<td class="num" data-value="${v}">${esc(v.toFixed(2))}</td>`;
  if (c.kind === 'time' && typeof v === 'string')
    return `<td data-value="${esc(v)}" title="${esc(time(v))}">${esc(shortTime(v))}</td>`;
  if (c.kind === 'id' && typeof v === 'string') return `<td class="id" title="${esc(v)}">${esc(v)}</td>`;
  if (c.kind === 'list') return `<td class="list">${esc(v ?? '')}</td>`;
  if (typeof v === 'number') return `<td class="num" data-value="${v}">${esc(v)}</td>`;
  return `<td>${esc(v === null ? '' : v === true ? 'yes' : v === false ? 'no' : v)}</td>`;
}

function table<T>(id: string, cols: readonly Col<T>[], rows: readonly T[]): string {
  const head = cols
    .map(
      (c) => `<th${c.kind === 'money' ? ' class="money"' : c.kind === 'id' ? ' class="id"' : ''}>${esc(c.head)}</th>`,
    )
    .join('');
  const body = rows.map((r) => `<tr>${cols.map((c) => td(c, c.cell(r))).join('')}</tr>`).join('\n');
  return `<table id="${esc(id)}"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Real cost, on-demand cost and savings: the columns that come right after a row's identifiers. */
function money<T extends { realCost: number; onDemandCost: number; savings: number }>(): Col<T>[] {
  return [
    { head: 'Real cost', cell: (r) => r.realCost, kind: 'money' },
    { head: 'On-demand cost', cell: (r) => r.onDemandCost, kind: 'money' },
    { head: 'Savings', cell: (r) => r.savings, kind: 'money' },
  ];
}

const segmentCols: Col<SegmentRow>[] = [
  { head: 'Container', cell: (r) => r.containerId, kind: 'id' },
  { head: 'Worker', cell: (r) => r.workerId },
  ...money<SegmentRow>(),
  { head: 'Instance type', cell: (r) => r.instanceType },
  { head: 'Spot', cell: (r) => r.spot },
  { head: 'Start (UTC)', cell: (r) => r.start, kind: 'time' },
  { head: 'End (UTC)', cell: (r) => r.end, kind: 'time' },
  { head: 'Hours', cell: (r) => r.hours, kind: 'hours' },
];

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#1f2328;max-width:1200px}
h1{margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
.meta{color:#57606a;margin-top:0}
table{border-collapse:collapse;font-size:.8rem;margin:.5rem 0}
th,td{border:1px solid #d0d7de;padding:.2rem .4rem;text-align:left;white-space:nowrap}
th{background:#f6f8fa;white-space:normal;vertical-align:bottom}td.num{text-align:right;font-variant-numeric:tabular-nums}
th.money{background:#eef4fb}td.money{font-weight:600}
td.id{max-width:11ch;overflow:hidden;text-overflow:ellipsis;font-family:ui-monospace,monospace}
td.list{white-space:normal;overflow-wrap:anywhere;min-width:12ch}
#summary td.num{font-weight:600}
.chart{width:100%;height:auto;max-width:900px;display:block}
.chart .grid{stroke:#eaeef2}.chart .axis{stroke:#57606a}.chart .tick{font-size:11px;fill:#57606a}
.note{color:#57606a;font-size:.85rem}
.scroll{overflow-x:auto}
`;

export function renderHtml(report: CostReport): string {
  const s = report.summary;
  const f = report.filter;
  const summaryRows: [string, string | number, 'money' | 'hours' | 'pct' | 'count'][] = [
    ['Real cost', s.realCost, 'money'],
    ['On-demand equivalent', s.onDemandCost, 'money'],
    ['Savings', s.savings, 'money'],
    ['Savings (%)', s.savingsPercent, 'pct'],
    ['Controller cost', s.controllerCost, 'money'],
    ['Controller hours', s.controllerHours, 'hours'],
    ['Worker cost', s.workerCost, 'money'],
    ['Worker on-demand equivalent', s.workerOnDemandCost, 'money'],
    ['Worker hours', s.workerHours, 'hours'],
    ['Spot worker hours', s.spotWorkerHours, 'hours'],
    ['On-demand worker hours', s.onDemandWorkerHours, 'hours'],
    ['Idle worker cost', s.idleWorkerCost, 'money'],
    ['Container cost', s.containerCost, 'money'],
    ['Controllers', s.controllers, 'count'],
    ['Workers (spot / on-demand)', `${s.workers} (${s.spotWorkers} / ${s.onDemandWorkers})`, 'count'],
    ['Containers', s.containers, 'count'],
    ['Jobs', s.jobs, 'count'],
  ];
  const summary = `<table id="summary"><tbody>\n${summaryRows
    .map(([k, v, kind]) => {
      const key = k
        .toLowerCase()
        .replace(/[^a-z]+/g, '-')
        .replace(/-+$/, '');
      const shown =
        kind === 'money' && typeof v === 'number'
          ? usd(v)
          : kind === 'hours' && typeof v === 'number'
            ? v.toFixed(2)
            : kind === 'pct'
              ? `${v}%`
              : String(v);
      return `<tr data-key="${esc(key)}"><th>${esc(k)}</th><td class="num" data-value="${esc(v)}">${esc(shown)}</td></tr>`;
    })
    .join('\n')}\n</tbody></table>`;

  const section = (id: string, title: string, body: string) =>
    `<section id="${id}"><h2>${esc(title)}</h2>\n${body}\n</section>`;
  const parts: string[] = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>X-Spot cost report ${esc(report.window.firstDay)} to ${esc(report.window.lastDay)}</title>`,
    `<style>${CSS}</style></head><body>`,
    '<h1>X-Spot cost report</h1>',
    `<p class="meta">${esc(report.window.firstDay)} to ${esc(report.window.lastDay)} (UTC) &middot; logs ${esc(report.logs)} &middot; discount ${esc(report.discountPercent)}% off on-demand${
      f === null ? '' : ` &middot; ${esc(f.flag)} ${esc(f.value)}`
    } &middot; generated ${esc(time(report.generatedAt))}</p>`,
    section('summary-section', 'Summary', summary),
    `<p class="note">Real cost: the spot price logged for spot workers; the on-demand price less the discount for on-demand workers and controllers. On-demand equivalent: the same worker hours at the on-demand price less the discount (controllers add nothing, since they exist only because of X-Spot).${
      f === null
        ? ''
        : ' With a container or job selected, figures are the selected containers\u2019 share of the workers they ran on.'
    }</p>`,
    section('chart-daily-section', 'Cost vs on-demand over time', dailyChart(report.daily)),
    section('chart-savings-section', 'Savings by instance type', savingsChart(report.byInstanceType)),
  ];
  if (report.lifetime !== null) {
    parts.push(
      section(
        'lifetime-section',
        'Lifetime',
        `<div class="scroll">${table('lifetime', segmentCols, report.lifetime)}</div>`,
      ),
    );
  }
  parts.push(
    section(
      'controllers-section',
      'Controllers',
      `<div class="scroll">${table(
        'controllers',
        [
          { head: 'Controller', cell: (r) => r.name, kind: 'list' },
          ...money<(typeof report.controllers)[number]>(),
          { head: 'Controller cost', cell: (r) => r.controllerCost, kind: 'money' },
          { head: 'Worker cost', cell: (r) => r.workerCost, kind: 'money' },
          { head: 'Rate (USD/h)', cell: (r) => r.rate, kind: 'rate' },
          { head: 'Region', cell: (r) => r.region },
          { head: 'Instance type', cell: (r) => r.instanceType },
          { head: 'Start (UTC)', cell: (r) => r.start, kind: 'time' },
          { head: 'End (UTC)', cell: (r) => r.end, kind: 'time' },
          { head: 'Hours', cell: (r) => r.hours, kind: 'hours' },
          { head: 'Workers', cell: (r) => r.workers },
        ],
        report.controllers,
      )}</div>`,
    ),
    section(
      'workers-section',
      'Workers',
      `<div class="scroll">${table(
        'workers',
        [
          { head: 'Worker', cell: (r) => r.id },
          ...money<(typeof report.workers)[number]>(),
          { head: 'Idle cost', cell: (r) => r.idleCost, kind: 'money' },
          { head: 'Rate paid (USD/h)', cell: (r) => r.rate, kind: 'rate' },
          { head: 'On-demand rate (USD/h)', cell: (r) => r.onDemandRate, kind: 'rate' },
          { head: 'Spot', cell: (r) => r.spot },
          { head: 'Instance type', cell: (r) => r.instanceType },
          { head: 'Controller', cell: (r) => r.controller, kind: 'list' },
          { head: 'Start (UTC)', cell: (r) => r.start, kind: 'time' },
          { head: 'End (UTC)', cell: (r) => r.end, kind: 'time' },
          { head: 'Hours', cell: (r) => r.hours, kind: 'hours' },
          { head: 'Containers', cell: (r) => r.containers },
        ],
        report.workers,
      )}</div>`,
    ),
    section(
      'containers-section',
      'Containers',
      `<div class="scroll">${table(
        'containers',
        [
          { head: 'Container', cell: (r) => r.id, kind: 'id' },
          ...money<(typeof report.containers)[number]>(),
          { head: 'Job', cell: (r) => r.jobId },
          { head: 'Controller', cell: (r) => r.controller, kind: 'list' },
          { head: 'vCPUs', cell: (r) => r.cpu },
          { head: 'Start (UTC)', cell: (r) => r.start, kind: 'time' },
          { head: 'End (UTC)', cell: (r) => r.end, kind: 'time' },
          { head: 'Hours', cell: (r) => r.hours, kind: 'hours' },
          { head: 'Workers', cell: (r) => r.workers.join(', '), kind: 'list' },
          { head: 'Migrations', cell: (r) => r.migrations },
        ],
        report.containers,
      )}</div>`,
    ),
    section(
      'jobs-section',
      'Jobs',
      `<div class="scroll">${table(
        'jobs',
        [
          { head: 'Job', cell: (r) => r.id },
          ...money<(typeof report.jobs)[number]>(),
          { head: 'Containers', cell: (r) => r.containers.length },
          { head: 'Start (UTC)', cell: (r) => r.start, kind: 'time' },
          { head: 'End (UTC)', cell: (r) => r.end, kind: 'time' },
          { head: 'Hours', cell: (r) => r.hours, kind: 'hours' },
        ],
        report.jobs,
      )}</div>`,
    ),
    section(
      'files-section',
      'Log files',
      `<p>${esc(report.files.found)} found, ${esc(report.files.read)} read, ${esc(report.files.outsideWindow)} outside the window, ${esc(report.files.invalid)} without timestamps in their first and last 5 lines.</p>`,
    ),
  );
  if (report.warnings.count > 0) {
    parts.push(
      section(
        'warnings-section',
        `Warnings (${report.warnings.count})`,
        `<ul id="warnings">${report.warnings.shown.map((w) => `<li>${esc(w)}</li>`).join('\n')}</ul>${
          report.warnings.count > report.warnings.shown.length
            ? `<p class="note">${report.warnings.count - report.warnings.shown.length} more not listed.</p>`
            : ''
        }`,
      ),
    );
  }
  parts.push('</body></html>', '');
  return parts.join('\n');
}
