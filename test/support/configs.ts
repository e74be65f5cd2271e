import { parse, stringify } from 'yaml';

/** Config variants shared by tests. */
export const EXISTING_VPC_CONFIG = {
  deployment: { name: 'site', region: 'eu-west-1', account: '123456789012' },
  network: {
    existingVpc: {
      vpcId: 'vpc-0a1b2c3d4e5f60718',
      cidrBlocks: ['172.31.0.0/16', '100.64.0.0/16'],
      privateSubnets: [
        {
          id: 'subnet-0a1b2c3d4e5f60718',
          cidr: '172.31.0.0/20',
          availabilityZone: 'eu-west-1a',
          routeTableId: 'rtb-0a1b2c3d4e5f60718',
        },
        {
          id: 'subnet-0b1b2c3d4e5f60718',
          cidr: '172.31.16.0/20',
          availabilityZone: 'eu-west-1b',
          routeTableId: 'rtb-0b1b2c3d4e5f60718',
        },
      ],
    },
    applicationIngress: [
      { description: 'SSH from the site bastion', fromPort: 22, cidrs: ['198.51.100.0/24'] },
      {
        description: 'FlexLM license server and vendor daemon',
        fromPort: 27000,
        toPort: 27009,
        cidrs: ['198.51.100.10/32'],
      },
    ],
  },
  iam: { roleNamePrefix: 'hpc-', permissionsBoundaryArn: 'arn:aws:iam::123456789012:policy/hpc-boundary' },
  storage: {
    type: 'nfs',
    mountPoint: '/nfs-apps',
    existing: { dnsName: 'nfs.example.internal', exportPath: '/export/apps' },
  },
  xspot: { remoteDir: '/nfs-apps/exostellar', repositoryGpgKey: 'https://rpm.example.com/RPM-GPG-KEY-xspot' },
  workers: { ami: 'ami-0fedcba9876543210', overlayPrefix: '192.168.200.0/24' },
  controllers: { amiId: 'ami-0abcdef0123456789', instanceType: 'm5d.2xlarge', desiredCapacity: 2, maxCapacity: 4 },
  scheduler: { type: 'gridengine' },
};

/** The package-signing key URL test configs use (xspot.repositoryGpgKey). */
export const TEST_KEY_URL = 'https://packages.example.com/xspot/RPM-GPG-KEY';

/**
 * A test config as a site writes one: with the vendor's package-signing key, which a real config
 * must name (or acknowledge unsigned-packages). Added unless the config sets the key or, being a
 * site's own file (no `example:` line: a copy of an example gets none of its acknowledgements),
 * acknowledges its absence; the signing rule itself is tested on configs that bypass this.
 */
export function signed<T extends object>(config: T): T {
  const c = structuredClone(config) as Record<string, unknown>;
  const acks = (c.acknowledgedWarnings ?? []) as { id?: string }[];
  const xspot = (c.xspot ?? {}) as Record<string, unknown>;
  const acknowledged = c.example === undefined && acks.some((a) => a?.id === 'unsigned-packages');
  if (acknowledged || 'repositoryGpgKey' in xspot) return c as T;
  return { ...c, xspot: { ...xspot, repositoryGpgKey: TEST_KEY_URL } } as T;
}

/** `signed` for YAML text. */
export function signedYaml(text: string): string {
  const doc = (parse(text) ?? {}) as object;
  return stringify(signed(doc));
}

/**
 * The text of config/default.yaml as a site's copy of it must be: with the package-signing key on
 * the example's commented `repositoryGpgKey` line (the example's acknowledgements do not hold for
 * a copy). Throws when the example no longer has that line.
 */
export function exampleCopyWithKey(exampleText: string): string {
  const line = /^( +)# repositoryGpgKey: .*$/m;
  if (!line.test(exampleText)) throw new Error('config/default.yaml has no commented repositoryGpgKey line');
  return exampleText.replace(line, `$1repositoryGpgKey: ${TEST_KEY_URL}`);
}
