/**
 * The vendor's package-signing key (xspot.repositoryGpgKey): an https URL of the key or the
 * ASCII-armored public key itself. One parser for the schema, the renderers and the worker image
 * construct, so the config check, the worker image and the controllers accept the same keys.
 */
import { ALLOW } from './patterns';

/** Where a repository's signing key comes from. */
export type RepositoryKey =
  /** yum fetches the key from this https URL (`gpgkey=<url>`). */
  | { readonly kind: 'url'; readonly url: string }
  /** The key itself, installed as a local file (`gpgkey=file:///etc/pki/rpm-gpg/...`). */
  | { readonly kind: 'armored'; readonly text: string }
  /**
   * No key: packages are installed without checking their signatures. Only for a repository that
   * publishes no key; the config allows it only with the acknowledged warning unsigned-packages.
   */
  | { readonly kind: 'unsigned' };

/** The name of the armored key in the controller's config bundle (conf/) and in runtime.env. */
export const ARMORED_KEY_FILE = 'repo-gpg-key.asc';

/** Where the worker image and the controllers install an armored key. */
export const INSTALLED_KEY_PATH = '/etc/pki/rpm-gpg/RPM-GPG-KEY-xspot-cdk';

/** The largest armored key accepted (a 4096-bit RSA key with a few signatures is ~3 KiB). */
export const MAX_ARMORED_KEY_BYTES = 64 * 1024;

const BEGIN = '-----BEGIN PGP PUBLIC KEY BLOCK-----';
const END = '-----END PGP PUBLIC KEY BLOCK-----';

/**
 * The armor's shape (RFC 4880 section 6.2): the BEGIN line, armor headers ("Key: value", with
 * values of plain characters), a blank line, base64 lines, an optional "=" CRC line, the END line.
 * Nothing else: no shell or YAML syntax can ride along into the files a host reads.
 */
export const ARMORED_KEY_PATTERN = new RegExp(
  `^${BEGIN}\\n(?:[A-Za-z][A-Za-z0-9-]{0,31}: [A-Za-z0-9 ._:/()@+,<>-]{0,200}\\n)*\\n` +
    '(?:[A-Za-z0-9+/]{1,128}={0,2}\\n)+(?:=[A-Za-z0-9+/]{4}\\n)?' +
    `${END}\\n$`,
);

export const KEY_ALLOWED =
  "the vendor's key: an https:// URL of the key, or the ASCII-armored public key (-----BEGIN PGP PUBLIC KEY BLOCK----- ... END PGP PUBLIC KEY BLOCK-----)";

/** CRC-24 of RFC 4880 section 6.1, over the decoded key. */
function crc24(data: Uint8Array): number {
  let crc = 0xb704ce;
  for (const byte of data) {
    crc ^= byte << 16;
    for (let i = 0; i < 8; i++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** The key text with CRLF line ends and trailing blank space normalised to single "\n" lines. */
export function normaliseArmoredKey(text: string): string {
  return `${text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l.replace(/[ \t]+$/, ''))
    .join('\n')
    .trim()}\n`;
}

/**
 * Why an armored key is not acceptable, or undefined when it is: the armor's shape, the checksum
 * line when present, and a first packet that is a public key (tag 6).
 */
export function armoredKeyProblem(text: string): string | undefined {
  if (text.length > MAX_ARMORED_KEY_BYTES) return `is ${text.length} characters; a key is at most 64 KiB`;
  if (!ARMORED_KEY_PATTERN.test(text)) {
    return text.includes('PRIVATE KEY')
      ? 'is a PRIVATE key: give the public key'
      : 'is not an ASCII-armored PGP public key block (BEGIN line, optional "Key: value" headers, a blank line, base64 lines, optional =CRC line, END line)';
  }
  const body = text.split('\n\n')[1] ?? '';
  const lines = body.split('\n').filter((l) => l && !l.startsWith('-----'));
  const crcLine = lines.find((l) => /^=[A-Za-z0-9+/]{4}$/.test(l));
  const data = Buffer.from(lines.filter((l) => l !== crcLine).join(''), 'base64');
  if (data.length < 16) return 'holds no key data';
  if (crcLine) {
    const expected = Buffer.from(crcLine.slice(1), 'base64').readUIntBE(0, 3);
    if (crc24(data) !== expected) return 'fails its armor checksum (the =CRC line): the key was damaged in copying';
  }
  const tag = data[0] & 0x40 ? data[0] & 0x3f : (data[0] >> 2) & 0x0f;
  if ((data[0] & 0x80) === 0 || tag !== 6) return 'does not start with a public-key packet';
  return undefined;
}

/** Why an https key URL is not acceptable, or undefined when it is. */
export function keyUrlProblem(url: string): string | undefined {
  if (/^http:\/\//i.test(url)) return 'is an http:// URL: a key fetched without TLS can be replaced in transit';
  return ALLOW.httpsUrl.pattern.test(url) ? undefined : `is not ${ALLOW.httpsUrl.allowed}`;
}

/** The key a config value describes; call only on a value the schema accepted (or undefined). */
export function repositoryKey(value: string | undefined): RepositoryKey {
  if (value === undefined) return { kind: 'unsigned' };
  return value.startsWith(BEGIN) ? { kind: 'armored', text: value } : { kind: 'url', url: value };
}
