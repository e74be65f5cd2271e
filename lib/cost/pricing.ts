/**
 * On-demand prices (USD per hour, Linux, shared tenancy) for the instance types in the logs.
 *
 * Pricing file layout, the same as the controller's `/etc/xspot/aws-pricing/<region>.json`: one
 * JSON object per region mapping each instance type to its on-demand USD/hour:
 *
 *     { "m5.xlarge": 0.192, "r5b.xlarge": 0.298 }
 *
 * Sources:
 * - `--pricing FILE`: that file, for every region; `--pricing DIR`: `DIR/<region>.json`.
 * - otherwise the AWS Price List API (GetProducts), cached in `<cache dir>/<region>.json` in the
 *   same layout. Types missing from the cache are fetched and added; a cache file older than
 *   CACHE_MAX_AGE_DAYS is ignored. No CDK imports here.
 */
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { GetProductsCommandOutput, PricingClient } from '@aws-sdk/client-pricing';
import { UserError } from '../errors';
import { describeAwsError } from '../ops/aws-errors';
import { isInstanceType } from './log-format';

export const CACHE_MAX_AGE_DAYS = 30;

/** Region code -> the `location` attribute the Price List uses for it. */
export const PRICE_LIST_LOCATIONS: Readonly<Record<string, string>> = {
  'us-east-1': 'US East (N. Virginia)',
  'us-east-2': 'US East (Ohio)',
  'us-west-1': 'US West (N. California)',
  'us-west-2': 'US West (Oregon)',
  'af-south-1': 'Africa (Cape Town)',
  'ap-east-1': 'Asia Pacific (Hong Kong)',
  'ap-south-1': 'Asia Pacific (Mumbai)',
  'ap-south-2': 'Asia Pacific (Hyderabad)',
  'ap-southeast-1': 'Asia Pacific (Singapore)',
  'ap-southeast-2': 'Asia Pacific (Sydney)',
  'ap-southeast-3': 'Asia Pacific (Jakarta)',
  'ap-southeast-4': 'Asia Pacific (Melbourne)',
  'ap-northeast-1': 'Asia Pacific (Tokyo)',
  'ap-northeast-2': 'Asia Pacific (Seoul)',
  'ap-northeast-3': 'Asia Pacific (Osaka)',
  'ca-central-1': 'Canada (Central)',
  'ca-west-1': 'Canada West (Calgary)',
  'eu-central-1': 'EU (Frankfurt)',
  'eu-central-2': 'EU (Zurich)',
  'eu-west-1': 'EU (Ireland)',
  'eu-west-2': 'EU (London)',
  'eu-west-3': 'EU (Paris)',
  'eu-north-1': 'EU (Stockholm)',
  'eu-south-1': 'EU (Milan)',
  'eu-south-2': 'EU (Spain)',
  'il-central-1': 'Israel (Tel Aviv)',
  'me-south-1': 'Middle East (Bahrain)',
  'me-central-1': 'Middle East (UAE)',
  'sa-east-1': 'South America (Sao Paulo)',
  'us-gov-east-1': 'AWS GovCloud (US-East)',
  'us-gov-west-1': 'AWS GovCloud (US-West)',
};

export type PriceTable = Map<string, number>;

/** The default cache directory: $XDG_CACHE_HOME/xspot-cdk/pricing, else ~/.cache/xspot-cdk/pricing. */
export function defaultPricingCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME && env.XDG_CACHE_HOME !== '' ? env.XDG_CACHE_HOME : join(homedir(), '.cache');
  return join(base, 'xspot-cdk', 'pricing');
}

/** Reads a pricing file; any problem is one UserError line naming the file. */
export async function readPricingFile(path: string): Promise<PriceTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new UserError(`Pricing file not found: ${path}`);
    throw new UserError(`Pricing file not readable: ${path} (${(err as Error).message})`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UserError(`Pricing file ${path} is not valid JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new UserError(
      `Pricing file ${path} must be a JSON object mapping instance type to USD/hour, e.g. {"m5.xlarge": 0.192}`,
    );
  }
  const table: PriceTable = new Map();
  for (const [type, price] of Object.entries(data as Record<string, unknown>)) {
    if (!isInstanceType(type) || typeof price !== 'number' || !Number.isFinite(price) || price < 0) {
      throw new UserError(
        `Pricing file ${path}: entry ${JSON.stringify(type)}: ${JSON.stringify(price)} must map an instance type to a USD/hour number >= 0`,
      );
    }
    table.set(type, price);
  }
  return table;
}

/** Gives the list on-demand USD/hour for every type asked for in a region, or throws a UserError. */
export interface PriceSource {
  prices(region: string | undefined, types: readonly string[], who: (type: string) => string): Promise<PriceTable>;
}

function noRegion(who: string): string {
  return `no DefaultRegion in the Scheduler configurations line for ${who}; pass --region`;
}

/** `--pricing FILE` (all regions) or `--pricing DIR` (DIR/<region>.json). */
export class PricingFileSource implements PriceSource {
  constructor(
    private readonly path: string,
    private readonly isDirectory: boolean,
  ) {}

  static async open(path: string): Promise<PricingFileSource> {
    const st = await stat(path).catch(() => undefined);
    if (st === undefined) throw new UserError(`Pricing file not found: ${path}`);
    return new PricingFileSource(path, st.isDirectory());
  }

  async prices(
    region: string | undefined,
    types: readonly string[],
    who: (type: string) => string,
  ): Promise<PriceTable> {
    let file = this.path;
    if (this.isDirectory) {
      file = join(this.path, `${region ?? ''}.json`);
      if (region === undefined) throw new UserError(`Pricing file not found: ${file} (${noRegion(who(types[0]))})`);
    }
    const table = await readPricingFile(file);
    for (const t of types) {
      if (!table.has(t)) throw new UserError(`Invalid instance type: ${t} (${who(t)}; not in pricing file ${file})`);
    }
    return table;
  }
}

/** The filters the guide's tool used, for one instance type in one region. */
export function priceListFilters(region: string, instanceType: string) {
  const location = PRICE_LIST_LOCATIONS[region];
  return [
    { Type: 'TERM_MATCH' as const, Field: 'instanceType', Value: instanceType },
    location !== undefined
      ? { Type: 'TERM_MATCH' as const, Field: 'location', Value: location }
      : { Type: 'TERM_MATCH' as const, Field: 'regionCode', Value: region },
    { Type: 'TERM_MATCH' as const, Field: 'tenancy', Value: 'Shared' },
    { Type: 'TERM_MATCH' as const, Field: 'operatingSystem', Value: 'Linux' },
    { Type: 'TERM_MATCH' as const, Field: 'preInstalledSw', Value: 'NA' },
    { Type: 'TERM_MATCH' as const, Field: 'capacitystatus', Value: 'Used' },
  ];
}

interface PriceListItem {
  product?: { attributes?: Record<string, string> };
  terms?: {
    OnDemand?: Record<string, { priceDimensions?: Record<string, { unit?: string; pricePerUnit?: { USD?: string } }> }>;
  };
}

/** The hourly USD on-demand price in one Price List product document, or undefined. */
export function hourlyPrice(doc: PriceListItem): number | undefined {
  const attrs = doc.product?.attributes ?? {};
  if (attrs.licenseModel !== undefined && attrs.licenseModel !== 'No License required') return undefined;
  if (attrs.marketoption !== undefined && attrs.marketoption !== 'OnDemand') return undefined;
  for (const offer of Object.values(doc.terms?.OnDemand ?? {})) {
    for (const dim of Object.values(offer.priceDimensions ?? {})) {
      const usd = Number(dim.pricePerUnit?.USD);
      if ((dim.unit === undefined || /^hrs?$/i.test(dim.unit)) && Number.isFinite(usd) && usd > 0) return usd;
    }
  }
  return undefined;
}

function parseItem(item: unknown): PriceListItem | undefined {
  try {
    return (typeof item === 'string' ? JSON.parse(item) : JSON.parse(String(item))) as PriceListItem;
  } catch {
    return typeof item === 'object' && item !== null ? (item as PriceListItem) : undefined;
  }
}

/** The AWS Price List API with a per-region JSON cache in the pricing file layout. */
export class PriceListApiSource implements PriceSource {
  constructor(
    private readonly client: () => Promise<PricingClient>,
    private readonly cacheDir: string,
    private readonly now: () => number = Date.now,
  ) {}

  cacheFile(region: string): string {
    return join(this.cacheDir, `${region}.json`);
  }

  private async readCache(region: string): Promise<PriceTable> {
    const file = this.cacheFile(region);
    const st = await stat(file).catch(() => undefined);
    if (st === undefined || this.now() - st.mtimeMs > CACHE_MAX_AGE_DAYS * 86_400_000) return new Map();
    try {
      return await readPricingFile(file);
    } catch {
      return new Map(); // a damaged cache is rebuilt
    }
  }

  private async writeCache(region: string, table: PriceTable): Promise<void> {
    const file = this.cacheFile(region);
    const sorted = Object.fromEntries([...table].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    try {
      await mkdir(dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      await writeFile(tmp, `${JSON.stringify(sorted, null, 2)}\n`);
      await rename(tmp, file);
    } catch {
      // The cache is an optimisation: failing to write it must not fail the report.
    }
  }

  async fetch(region: string, instanceType: string): Promise<number | undefined> {
    const { GetProductsCommand } = await import('@aws-sdk/client-pricing');
    const client = await this.client();
    let token: string | undefined;
    let best: number | undefined;
    do {
      let res: GetProductsCommandOutput;
      try {
        res = await client.send(
          new GetProductsCommand({
            ServiceCode: 'AmazonEC2',
            FormatVersion: 'aws_v1',
            Filters: priceListFilters(region, instanceType),
            NextToken: token,
            MaxResults: 100,
          }),
        );
      } catch (err) {
        throw new UserError(
          describeAwsError(err, {
            action: `reading the on-demand price of ${instanceType} in ${region} from the AWS Price List API`,
            permission: 'pricing:GetProducts',
          }),
        );
      }
      const items: unknown[] = Array.isArray(res.PriceList) ? res.PriceList : [];
      for (const item of items) {
        const doc = parseItem(item);
        const usd = doc === undefined ? undefined : hourlyPrice(doc);
        if (usd !== undefined && (best === undefined || usd < best)) best = usd;
      }
      token = res.NextToken;
    } while (token);
    return best;
  }

  async prices(
    region: string | undefined,
    types: readonly string[],
    who: (type: string) => string,
  ): Promise<PriceTable> {
    if (region === undefined) {
      throw new UserError(`Pricing file not found: ${this.cacheFile('')} (${noRegion(who(types[0]))})`);
    }
    const table = await this.readCache(region);
    const missing = [...new Set(types)].filter((t) => !table.has(t));
    if (missing.length === 0) return table;
    for (const t of missing) {
      const usd = await this.fetch(region, t);
      if (usd === undefined) {
        await this.writeCache(region, table);
        throw new UserError(
          `Invalid instance type: ${t} (${who(t)}; the AWS Price List has no Linux on-demand price for it in ${region})`,
        );
      }
      table.set(t, usd);
    }
    await this.writeCache(region, table);
    return table;
  }
}
