/** IPv4 CIDR arithmetic for the overlay/VPC overlap rules. */
export interface Cidr {
  readonly network: number;
  readonly prefix: number;
  readonly text: string;
}

export function parseCidr(text: string): Cidr {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(text);
  if (!m) throw new Error(`not an IPv4 CIDR: ${text}`);
  const ip = ((+m[1] << 24) | (+m[2] << 16) | (+m[3] << 8) | +m[4]) >>> 0;
  const prefix = +m[5];
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { network: (ip & mask) >>> 0, prefix, text };
}

function range(c: Cidr): [number, number] {
  const size = 2 ** (32 - c.prefix);
  return [c.network, c.network + size - 1];
}

export function cidrsOverlap(a: string, b: string): boolean {
  const [a0, a1] = range(parseCidr(a));
  const [b0, b1] = range(parseCidr(b));
  return a0 <= b1 && b0 <= a1;
}

/** Whether `inner` lies wholly inside `outer`. */
export function cidrContains(outer: string, inner: string): boolean {
  const [o0, o1] = range(parseCidr(outer));
  const [i0, i1] = range(parseCidr(inner));
  return o0 <= i0 && i1 <= o1;
}

/** Whether the address part has host bits set (10.0.0.1/16). */
export function hasHostBits(text: string): boolean {
  const c = parseCidr(text);
  const ip = text
    .split('/')[0]
    .split('.')
    .reduce((acc, o) => ((acc << 8) | +o) >>> 0, 0);
  return ip !== c.network;
}
