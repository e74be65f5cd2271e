/**
 * The assumed X-Spot log grammar (lib/cost/log-format.ts, docs/cost.md) and the scanner that
 * finds its marker lines in raw chunks.
 */
import {
  headTimestamp,
  MARKER_CONTAINER,
  MARKER_FINALIZE,
  MARKER_SCHEDULER,
  MARKER_TERMINATE,
  MARKERS,
  MAX_LINE_BYTES,
  parseMarkedLine,
  parseTimestamp,
  tailTimestamp,
} from '../../lib/cost/log-format';
import { type Anchor, chooseAnchors, DEFAULT_ANCHORS, MarkerScanner, searchCost } from '../../lib/cost/scanner';

describe('parseTimestamp', () => {
  test.each([
    ['2024-03-01T10:00:00Z INFO x', '2024-03-01T10:00:00.000Z'],
    ['2024-03-01T10:00:00.123Z INFO x', '2024-03-01T10:00:00.123Z'],
    ['2024-03-01T10:00:00.123456789Z x', '2024-03-01T10:00:00.123Z'],
    ['2024-03-01 10:00:00,5 x', '2024-03-01T10:00:00.500Z'],
    ['2024-03-01T11:00:00.000+01:00 x', '2024-03-01T10:00:00.000Z'],
    ['2024-03-01T05:30:00-0430 x', '2024-03-01T10:00:00.000Z'],
    ['2024/03/01 10:00:00 x', '2024-03-01T10:00:00.000Z'],
    ['[2024-03-01T10:00:00Z] x', '2024-03-01T10:00:00.000Z'],
    ['time="2024-03-01T10:00:00Z" level=info msg=x', '2024-03-01T10:00:00.000Z'],
    ['2024-03-01T10:00:00 no zone is UTC', '2024-03-01T10:00:00.000Z'],
  ])('%s', (line, iso) => {
    expect(new Date(parseTimestamp(line)!).toISOString()).toBe(iso);
  });

  test.each([
    'INFO 2024-03-01T10:00:00Z',
    '2024-13-01T10:00:00Z',
    '2024-02-30T10:00:00Z',
    '2024-03-01T25:00:00Z',
    '2024-03-01X10:00:00Z',
    '2024-03-01T10:00Z',
    '2024-03/01T10:00:00Z',
    '2024-03-01T10:00:00.Z',
    '',
  ])('rejects %j', (line) => {
    expect(parseTimestamp(line)).toBeUndefined();
  });

  test('accepts exactly the days Date does not roll over (leap years, month ends, years below 100)', () => {
    const pad = (v: number, w: number) => String(v).padStart(w, '0');
    const mismatches: string[] = [];
    for (const year of [0, 4, 99, 100, 1600, 1900, 2000, 2023, 2024, 2100, 2400, 9999]) {
      for (let month = 1; month <= 12; month++) {
        for (let day = 1; day <= 31; day++) {
          const line = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T23:59:59.999Z x`;
          // Date.UTC reads years 0-99 as 1900-1999; the oracle asks Date, with the year it means.
          const d = new Date(0);
          d.setUTCFullYear(year, month - 1, day);
          const real = d.getUTCDate() === day;
          const oracle = year < 100 ? new Date(Date.UTC(year, month - 1, day)).getUTCDate() === day : real;
          if ((parseTimestamp(line) !== undefined) !== oracle) mismatches.push(line);
        }
      }
    }
    expect(mismatches).toEqual([]);
  });
});

describe('head and tail timestamps (first 5 and last 5 lines)', () => {
  const lines = (n: number, from = 0) =>
    Array.from({ length: n }, (_, i) => `2024-03-01T00:${String(from + i).padStart(2, '0')}:00Z x`);

  test('the first timestamp among the first 5 lines', () => {
    const text = ['header', 'more header', ...lines(3, 7), ''].join('\n');
    expect(new Date(headTimestamp(text, true)!).toISOString()).toBe('2024-03-01T00:07:00.000Z');
  });

  test('none in the first 5 lines is no start', () => {
    const text = ['a', 'b', 'c', 'd', 'e', ...lines(3)].join('\n');
    expect(headTimestamp(text, true)).toBeUndefined();
  });

  test('the last timestamp among the last 5 lines, trailing blank lines ignored', () => {
    const text = [...lines(10), 'goroutine 1 [running]:', 'main.main()', '', ''].join('\n');
    expect(new Date(tailTimestamp(text, true)!).toISOString()).toBe('2024-03-01T00:09:00.000Z');
  });

  test('a cut first or last line of a partial read is not used', () => {
    // The head read ended in the middle of a line; the tail read started in the middle of one.
    expect(headTimestamp('x\ny\nz\nw\n2024-03-01T00:00', false)).toBeUndefined();
    expect(tailTimestamp('01T00:00:00Z cut\nx\n', false)).toBeUndefined();
    expect(tailTimestamp('4-03-01T00:00:00Z cut\n2024-03-01T00:05:00Z ok\n', false)).toBe(
      Date.parse('2024-03-01T00:05:00Z'),
    );
  });
});

describe('parseMarkedLine', () => {
  test('FinalizeWorkerMetadata: key=value fields', () => {
    const line =
      '2024-03-01T01:00:00Z INFO  [worker] FinalizeWorkerMetadata worker=4465ce68 instanceId=i-0222d5115daa6ef2e instanceType=r5b.xlarge spot=true price=0.088';
    expect(parseMarkedLine(MARKER_FINALIZE, line)).toEqual({
      event: {
        kind: 'worker-ready',
        ts: Date.parse('2024-03-01T01:00:00Z'),
        workerId: '4465ce68',
        instanceId: 'i-0222d5115daa6ef2e',
        instanceType: 'r5b.xlarge',
        spot: true,
        price: 0.088,
      },
    });
  });

  test('Terminating Worker Instance: JSON', () => {
    const line =
      '2024-03-01T05:00:00Z INFO  [worker] Terminating Worker Instance: {"WorkerID":"4465ce68","InstanceType":"r5b.xlarge","Spot":false,"Price":"0.3"}';
    expect(parseMarkedLine(MARKER_TERMINATE, line)).toEqual({
      event: {
        kind: 'worker-terminate',
        ts: Date.parse('2024-03-01T05:00:00Z'),
        workerId: '4465ce68',
        instanceType: 'r5b.xlarge',
        spot: false,
        price: 0.3,
      },
    });
  });

  test('ContainerStateChange: JSON', () => {
    const line =
      '2024-03-01T04:30:00Z INFO  [container] ContainerStateChange: {"ContainerID":"3f2a","State":"Migrated","FromWorkerID":"a1","WorkerID":"b2","JobID":1001,"Cpu":4}';
    expect(parseMarkedLine(MARKER_CONTAINER, line)).toEqual({
      event: {
        kind: 'container',
        ts: Date.parse('2024-03-01T04:30:00Z'),
        containerId: '3f2a',
        state: 'migrated',
        workerId: 'b2',
        fromWorkerId: 'a1',
        jobId: '1001',
        cpu: 4,
      },
    });
  });

  test('Scheduler configurations: DefaultRegion and the controller', () => {
    const line =
      '2024-03-01T00:00:00Z INFO Scheduler configurations: {"SchedulerEnabled":true,"OnDemandTypes":["r5"],"DefaultRegion":"eu-west-1","ControllerInstanceID":"i-0abc","ControllerInstanceType":"m5.xlarge"}';
    expect(parseMarkedLine(MARKER_SCHEDULER, line)).toEqual({
      event: {
        kind: 'scheduler',
        ts: Date.parse('2024-03-01T00:00:00Z'),
        region: 'eu-west-1',
        controllerInstanceId: 'i-0abc',
        controllerInstanceType: 'm5.xlarge',
      },
    });
  });

  test.each([
    [
      MARKER_TERMINATE,
      '2024-03-01T05:00:00Z Terminating Worker Instance: {"WorkerID":"4465ce68"',
      /^json not matched: 2024-03-01T05:00:00Z Terminating/,
    ],
    [MARKER_TERMINATE, '2024-03-01T05:00:00Z Terminating Worker Instance 4465ce68', /^json not matched: /],
    [
      MARKER_SCHEDULER,
      '2024-03-01T05:00:00Z Scheduler configurations: {DefaultRegion: us-east-1}',
      /^json not matched: /,
    ],
    [
      MARKER_CONTAINER,
      '2024-03-01T05:00:00Z ContainerStateChange: {"ContainerID":"x","State":"paused"}',
      /^no ContainerID or State \(started, migrated, stopped\) in: /,
    ],
    [MARKER_FINALIZE, '2024-03-01T05:00:00Z FinalizeWorkerMetadata instanceType=r5.xlarge', /^no worker id in: /],
    [
      MARKER_FINALIZE,
      '2024-03-01T05:00:00Z FinalizeWorkerMetadata worker=w1 instanceType=big',
      /^Invalid instance type: big \(worker w1\)$/,
    ],
    [
      MARKER_FINALIZE,
      'FinalizeWorkerMetadata worker=w1 instanceType=r5.large',
      /^no timestamp in: FinalizeWorkerMetadata/,
    ],
  ])('malformed: %#', (marker, line, warning) => {
    const r = parseMarkedLine(marker, line);
    expect('warning' in r && r.warning).toMatch(warning);
  });

  test('a FinalizeWorkerMetadata without an instance type still starts the worker', () => {
    const r = parseMarkedLine(MARKER_FINALIZE, '2024-03-01T05:00:00Z FinalizeWorkerMetadata worker=w1 spot=true');
    expect(r).toEqual({
      event: { kind: 'worker-ready', ts: Date.parse('2024-03-01T05:00:00Z'), workerId: 'w1', spot: true },
    });
  });

  test('warnings quote at most 200 characters of the line', () => {
    const r = parseMarkedLine(
      MARKER_TERMINATE,
      `2024-03-01T05:00:00Z Terminating Worker Instance: {${'x'.repeat(500)}`,
    );
    expect('warning' in r && r.warning.length).toBe('json not matched: '.length + 203);
  });
});

describe('MarkerScanner', () => {
  const log = [
    '2024-03-01T00:00:00Z INFO start',
    '2024-03-01T00:00:01Z INFO Scheduler configurations: {"DefaultRegion":"us-east-1"}',
    '2024-03-01T00:00:02Z DEBUG nothing to see',
    '2024-03-01T00:00:03Z INFO FinalizeWorkerMetadata worker=w1 instanceType=r5.large',
    '2024-03-01T00:00:04Z INFO ContainerStateChange: {"ContainerID":"c1","State":"started","WorkerID":"w1"}',
    '2024-03-01T00:00:05Z INFO Terminating Worker Instance: {"WorkerID":"w1"} (after FinalizeWorkerMetadata retry)',
    '2024-03-01T00:00:06Z INFO end',
  ].join('\n');

  function scan(chunks: Buffer[]): [number, string][] {
    const hits: [number, string][] = [];
    const s = new MarkerScanner((line, marker) => hits.push([marker, line]));
    for (const c of chunks) s.push(c);
    s.end();
    return hits.sort((a, b) => a[1].localeCompare(b[1]));
  }

  const expected: [number, string][] = [
    [MARKER_SCHEDULER, '2024-03-01T00:00:01Z INFO Scheduler configurations: {"DefaultRegion":"us-east-1"}'],
    [MARKER_FINALIZE, '2024-03-01T00:00:03Z INFO FinalizeWorkerMetadata worker=w1 instanceType=r5.large'],
    [
      MARKER_CONTAINER,
      '2024-03-01T00:00:04Z INFO ContainerStateChange: {"ContainerID":"c1","State":"started","WorkerID":"w1"}',
    ],
    // Two markers on one line: it is read once, as the first marker in MARKERS order.
    [
      MARKER_FINALIZE,
      '2024-03-01T00:00:05Z INFO Terminating Worker Instance: {"WorkerID":"w1"} (after FinalizeWorkerMetadata retry)',
    ],
  ];

  test('finds every marker line, whole', () => {
    expect(scan([Buffer.from(log)])).toEqual(expected.sort((a, b) => a[1].localeCompare(b[1])));
    expect(MARKERS).toHaveLength(4);
  });

  test('finds the same lines whatever the chunk boundaries', () => {
    const bytes = Buffer.from(log);
    const want = scan([bytes]);
    for (let cut = 1; cut < bytes.length; cut++) {
      expect(scan([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(want);
    }
    for (const size of [1, 2, 3, 7, 13, 64]) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
      expect(scan(chunks)).toEqual(want);
    }
  });

  test('a reused chunk buffer is safe (the partial line is copied)', () => {
    const bytes = Buffer.from(log);
    const buf = Buffer.alloc(16);
    const hits: string[] = [];
    const s = new MarkerScanner((line) => hits.push(line));
    for (let i = 0; i < bytes.length; i += 16) {
      const n = bytes.copy(buf, 0, i, i + 16);
      s.push(n === 16 ? buf : buf.subarray(0, n));
      buf.fill(0x21);
    }
    s.end();
    expect(hits).toHaveLength(4);
  });

  test('CRLF line ends are stripped; a last line without newline is read', () => {
    const crlf = Buffer.from(
      '2024-03-01T00:00:03Z FinalizeWorkerMetadata worker=w1\r\n2024-03-01T00:00:04Z FinalizeWorkerMetadata worker=w2',
    );
    expect(scan([crlf]).map(([, l]) => l)).toEqual([
      '2024-03-01T00:00:03Z FinalizeWorkerMetadata worker=w1',
      '2024-03-01T00:00:04Z FinalizeWorkerMetadata worker=w2',
    ]);
  });

  test('lines over 1 MiB are counted and skipped, the next line is read', () => {
    const s = new MarkerScanner(() => {});
    const hits: string[] = [];
    const t = new MarkerScanner((l) => hits.push(l));
    const huge = Buffer.alloc(MAX_LINE_BYTES + 10, 'a');
    for (const scanner of [s, t]) {
      scanner.push(Buffer.from('2024-03-01T00:00:00Z FinalizeWorkerMetadata '));
      scanner.push(huge);
      scanner.push(Buffer.from('\n2024-03-01T00:00:01Z FinalizeWorkerMetadata worker=w2\n'));
      scanner.end();
    }
    expect(t.stats.overlong).toBe(1);
    expect(hits).toEqual(['2024-03-01T00:00:01Z FinalizeWorkerMetadata worker=w2']);
  });
});

describe('anchors', () => {
  test('a marker is searched from a byte that is rare in the sample (memchr stays cheap)', () => {
    // Every lowercase letter but z, and a T, Z, I, N, F, O on every line; no W, M, C or S.
    const sample = Buffer.from('2024-03-01T00:00:00Z INFO quick brown fox jumps over the lady dog\n'.repeat(50));
    const anchors = chooseAnchors(sample);
    expect(anchors.map((a) => [a.needle.toString(), a.offset])).toEqual([
      ['zeWorkerMetadata', 6],
      ['Worker Instance', 12],
      ['ContainerStateChange', 0],
      ['Scheduler configurations', 0],
    ]);
    expect(chooseAnchors(Buffer.alloc(0))).toEqual([...DEFAULT_ANCHORS]);
  });

  test('when no byte of a marker is rare, a short substring that seldom occurs beats a Boyer-Moore pass', () => {
    // Every line has a T (timestamp) and many have "Worker"/"WARN": no byte of "Terminating Worker
    // Instance" is rare. "Instan" stops memchr at each INFO line's I, but itself almost never occurs.
    const sample = Buffer.from(
      [
        '2024-03-01T00:00:01Z INFO  [worker] Worker 1a2b status Ready instance i-0abc type r5.xlarge',
        '2024-03-01T00:00:02Z WARN  [spot] price check r5.xlarge 0.07 in us-east-1a interruption rate 5%',
        '2024-03-01T00:00:03Z DEBUG [net] overlay 10.10.1.2 -> worker 1a2b rtt 300us',
        '2024-03-01T00:00:04Z DEBUG [balloon] container 3f2a9c1d mem target 8192 current 8011',
        '2024-03-01T00:00:05Z INFO  [api] GET /v1/sandboxes/3f2a9c1d 200 1.25ms',
        '2024-03-01T00:00:06Z INFO  [scheduler] heartbeat ok: workers=12 containers=30 pending=0',
        '',
      ]
        .join('\n')
        .repeat(300),
    );
    const [, terminating] = chooseAnchors(sample);
    expect([terminating.needle.toString(), terminating.offset]).toEqual(['Instan', 19]);
  });

  test('searchCost (ns per byte): memchr while the first byte is rare, else Boyer-Moore-Horspool', () => {
    const p = new Float64Array(256);
    p['a'.charCodeAt(0)] = 0.5;
    p['b'.charCodeAt(0)] = 0.5;
    // Absent first byte: one memchr pass.
    expect(searchCost(Buffer.from('zzzzzzzz'), p)).toBeCloseTo(0.03, 6);
    // Frequent first byte, 8 bytes long: BMH; "a" shifts by 7 (its last place is 0), "b" by all 8.
    expect(searchCost(Buffer.from('axxxxxxx'), p)).toBeCloseTo(5 / (0.5 * 7 + 0.5 * 8), 6);
    // Under 7 bytes: always memchr + compare, 20 ns per first-byte stop, 180 ns per hit returned.
    expect(searchCost(Buffer.from('ab'), p, 0.01)).toBeCloseTo(0.03 + 0.5 * 20 + 0.01 * 180, 6);
  });

  test('every substring of a marker used as anchor finds the same lines as the whole marker', () => {
    const log = Buffer.from(
      [
        'Finalize FinalizeWorker 2024 FinalizeWorkerMetadat',
        '2024-03-01T00:00:03Z INFO FinalizeWorkerMetadata worker=w1',
        'xx Terminating Worker Instanc Terminating Worker Instance: {"WorkerID":"w1"}',
        'ContainerStateChang ContainerStateChange: {}',
        'Scheduler configuration Scheduler configurations: {}',
        'einalizeWorkerMetadata eerminating Worker Instance',
      ].join('\n'),
    );
    const collect = (anchors: readonly Anchor[]) => {
      const hits: string[] = [];
      const s = new MarkerScanner((line, marker) => hits.push(`${marker}:${line}`), anchors);
      for (let i = 0; i < log.length; i += 5) s.push(log.subarray(i, i + 5));
      s.end();
      return hits.sort();
    };
    const want = collect(DEFAULT_ANCHORS);
    expect(want).toHaveLength(4);
    const markers = MARKERS.map((m) => Buffer.from(m));
    for (let k = 0; k < markers.length; k++) {
      for (let from = 0; from < markers[k].length; from++) {
        for (let to = from + 1; to <= markers[k].length; to++) {
          const anchors = DEFAULT_ANCHORS.map((a, j) =>
            j === k ? { needle: markers[k].subarray(from, to), offset: from } : a,
          );
          expect(collect(anchors)).toEqual(want);
        }
      }
    }
  });
});
