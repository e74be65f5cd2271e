/**
 * On-demand prices: the pricing file layout, and the AWS Price List API (mocked) with its cache.
 */
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GetProductsCommand, PricingClient } from '@aws-sdk/client-pricing';
import { mockClient } from 'aws-sdk-client-mock';
import {
  defaultPricingCacheDir,
  hourlyPrice,
  PriceListApiSource,
  PricingFileSource,
  priceListFilters,
  readPricingFile,
} from '../../lib/cost/pricing';
import { runCost } from '../../lib/cost/run';
import { LOGS, PRICING_DIR, runCli, tempDir } from './helpers';

const pricing = mockClient(PricingClient);
const tmp = tempDir();
afterAll(() => {
  pricing.restore();
  tmp.cleanup();
});

/** A Price List product document, as GetProducts returns it (a JSON string). */
function product(instanceType: string, usd: string, attrs: Record<string, string> = {}): string {
  return JSON.stringify({
    product: {
      productFamily: 'Compute Instance',
      attributes: {
        instanceType,
        location: 'US East (N. Virginia)',
        operatingSystem: 'Linux',
        licenseModel: 'No License required',
        marketoption: 'OnDemand',
        ...attrs,
      },
      sku: `SKU${instanceType}`,
    },
    terms: {
      OnDemand: {
        [`SKU${instanceType}.JRTCKXETXF`]: {
          priceDimensions: {
            [`SKU${instanceType}.JRTCKXETXF.6YS6EN2CT7`]: {
              unit: 'Hrs',
              pricePerUnit: { USD: usd },
              description: `$${usd} per On Demand Linux ${instanceType} Instance Hour`,
            },
          },
        },
      },
    },
  });
}

const LIST: Record<string, string> = {
  'm5.large': '0.0960000000',
  'm5.xlarge': '0.1920000000',
  'r5.xlarge': '0.2520000000',
  'r5b.xlarge': '0.2980000000',
  'r5.4xlarge': '1.0080000000',
};

beforeEach(() => {
  pricing.reset();
  pricing.on(GetProductsCommand).callsFake((input) => {
    const type = input.Filters?.find((f: { Field?: string }) => f.Field === 'instanceType')?.Value as string;
    return { FormatVersion: 'aws_v1', PriceList: LIST[type] ? [product(type, LIST[type])] : [] };
  });
});

describe('pricing file layout: instance type -> USD/hour', () => {
  test('reads the fixture', async () => {
    const table = await readPricingFile(join(PRICING_DIR, 'us-east-1.json'));
    expect(Object.fromEntries(table)).toEqual({
      'm5.large': 0.096,
      'm5.xlarge': 0.192,
      'r5.xlarge': 0.252,
      'r5b.xlarge': 0.298,
      'r5.4xlarge': 1.008,
    });
  });

  test.each([
    ['not json', /^Pricing file .*bad\.json is not valid JSON: /],
    ['[1,2]', /^Pricing file .*bad\.json must be a JSON object mapping instance type to USD\/hour/],
    [
      '{"m5.large": "cheap"}',
      /^Pricing file .*bad\.json: entry "m5\.large": "cheap" must map an instance type to a USD\/hour number >= 0$/,
    ],
    ['{"large": 1}', /entry "large": 1 must map an instance type/],
  ])('rejects %s', async (text, message) => {
    const file = join(tmp.path, 'bad.json');
    writeFileSync(file, text);
    await expect(readPricingFile(file)).rejects.toThrow(message);
  });

  test('a file applies to every region; a directory is read as <dir>/<region>.json', async () => {
    const file = await PricingFileSource.open(join(PRICING_DIR, 'us-east-1.json'));
    expect((await file.prices('eu-west-1', ['m5.large'], (t) => t)).get('m5.large')).toBe(0.096);
    const dir = await PricingFileSource.open(PRICING_DIR);
    await expect(dir.prices('eu-west-1', ['m5.large'], (t) => t)).rejects.toThrow(
      /^Pricing file not found: .*pricing\/eu-west-1\.json$/,
    );
  });
});

describe('AWS Price List API', () => {
  test('asks for Linux, shared tenancy, no pre-installed software, used capacity, in the location', async () => {
    const cache = join(tmp.path, 'filters');
    const src = new PriceListApiSource(async () => new PricingClient({ region: 'us-east-1' }), cache);
    expect(await src.fetch('eu-west-1', 'r5.xlarge')).toBe(0.252);
    const input = pricing.commandCalls(GetProductsCommand)[0].args[0].input;
    expect(input.ServiceCode).toBe('AmazonEC2');
    expect(input.Filters).toEqual([
      { Type: 'TERM_MATCH', Field: 'instanceType', Value: 'r5.xlarge' },
      { Type: 'TERM_MATCH', Field: 'location', Value: 'EU (Ireland)' },
      { Type: 'TERM_MATCH', Field: 'tenancy', Value: 'Shared' },
      { Type: 'TERM_MATCH', Field: 'operatingSystem', Value: 'Linux' },
      { Type: 'TERM_MATCH', Field: 'preInstalledSw', Value: 'NA' },
      { Type: 'TERM_MATCH', Field: 'capacitystatus', Value: 'Used' },
    ]);
    // A region the table does not know is matched by its code.
    expect(priceListFilters('xx-new-1', 'm5.large')[1]).toEqual({
      Type: 'TERM_MATCH',
      Field: 'regionCode',
      Value: 'xx-new-1',
    });
  });

  test('reads the hourly USD price; skips licensed and non-on-demand products', () => {
    expect(hourlyPrice(JSON.parse(product('m5.large', '0.0960000000')))).toBe(0.096);
    expect(
      hourlyPrice(JSON.parse(product('m5.large', '0.5', { licenseModel: 'Bring your own license' }))),
    ).toBeUndefined();
    expect(hourlyPrice(JSON.parse(product('m5.large', '0.0000000000')))).toBeUndefined();
  });

  test('GIVEN no --pricing THEN the API prices the run and the cache answers the next one', async () => {
    const cache = join(tmp.path, 'cache');
    const args = {
      logs: LOGS,
      start: '2024-03-01',
      end: '2024-03-02',
      output: 'json',
      outDir: tmp.path,
      pricingCache: cache,
    };
    const io = { out: () => {}, err: () => {}, now: () => Date.now() };
    const first = await runCost(args, io);
    expect(first.report.summary.realCost).toBeCloseTo(9.2844, 6); // same as the pricing file fixture
    expect(pricing.commandCalls(GetProductsCommand)).toHaveLength(5);
    const cached = JSON.parse(readFileSync(join(cache, 'us-east-1.json'), 'utf8'));
    expect(cached).toEqual({
      'm5.large': 0.096,
      'm5.xlarge': 0.192,
      'r5.4xlarge': 1.008,
      'r5.xlarge': 0.252,
      'r5b.xlarge': 0.298,
    });

    pricing.resetHistory();
    const second = await runCost(args, io);
    expect(second.report.summary).toEqual(first.report.summary);
    expect(pricing.commandCalls(GetProductsCommand)).toHaveLength(0);

    // A cache older than 30 days is not trusted.
    const old = (Date.now() - 31 * 86_400_000) / 1000;
    utimesSync(join(cache, 'us-east-1.json'), old, old);
    await runCost(args, io);
    expect(pricing.commandCalls(GetProductsCommand)).toHaveLength(5);
  });

  test('GIVEN a type the Price List does not know THEN "Invalid instance type", one line', async () => {
    const cache = join(tmp.path, 'unknown');
    const src = new PriceListApiSource(async () => new PricingClient({ region: 'us-east-1' }), cache);
    await expect(src.prices('us-east-1', ['m5.large', 'zz9.huge'], (t) => `worker of ${t}`)).rejects.toThrow(
      /^Invalid instance type: zz9\.huge \(worker of zz9\.huge; the AWS Price List has no Linux on-demand price for it in us-east-1\)$/,
    );
    // What was found is still cached.
    expect(existsSync(join(cache, 'us-east-1.json'))).toBe(true);
  });

  test('GIVEN the API denies access THEN one line names the permission', async () => {
    pricing
      .on(GetProductsCommand)
      .rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    const run = await runCli([
      'cost',
      '-l',
      LOGS,
      '-s',
      '2024-03-01',
      '-e',
      '2024-03-02',
      '-o',
      'json',
      '--out-dir',
      tmp.path,
      '--pricing-cache',
      join(tmp.path, 'denied'),
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr.filter((l) => l.startsWith('error:'))).toEqual([
      expect.stringMatching(
        /^error: reading the on-demand price of m5\.xlarge in us-east-1 from the AWS Price List API: access denied; the caller needs pricing:GetProducts \(User is not authorized\)$/,
      ),
    ]);
  });

  test('the default cache directory follows XDG_CACHE_HOME', () => {
    expect(defaultPricingCacheDir({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/xspot-cdk/pricing');
    expect(defaultPricingCacheDir({})).toMatch(/\.cache\/xspot-cdk\/pricing$/);
  });
});
