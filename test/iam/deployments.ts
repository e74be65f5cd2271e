/** The two deployments the IAM tests evaluate, and how a case's decisions are judged. */
import { EXISTING_VPC_CONFIG } from '../support/configs';
import { type Case, type Facts, facts } from './cases';
import { decide } from './evaluate';
import { type DeploymentModel, loadDeployment } from './model';

/** The site's two NAT gateways. */
export const SITE_NAT_IPS = ['203.0.113.10/32', '203.0.113.20/32'];

/**
 * The existing-VPC config with its NAT addresses, so the off-instance deny is complete, and with
 * the S3 gateway endpoint and flow log an existing VPC gets only when asked.
 */
export const EXISTING_WITH_NAT = {
  ...EXISTING_VPC_CONFIG,
  network: {
    ...EXISTING_VPC_CONFIG.network,
    existingVpc: {
      ...EXISTING_VPC_CONFIG.network.existingVpc,
      natPublicIps: SITE_NAT_IPS,
      addS3Endpoint: true,
      flowLogs: true,
    },
  },
};

export const CONFIGS: { label: string; load: () => { m: DeploymentModel; f: Facts } }[] = [
  {
    label: 'default config (new VPC, EFS, no worker AMI yet)',
    load: () => {
      const m = loadDeployment();
      return { m, f: facts(m, 'xspot') };
    },
  },
  {
    label: 'existing-VPC config (pinned worker AMI, site NFS, role prefix, boundary)',
    load: () => {
      const m = loadDeployment(EXISTING_WITH_NAT);
      return {
        m,
        f: facts(
          m,
          'site',
          EXISTING_VPC_CONFIG.workers.ami,
          SITE_NAT_IPS.map((ip) => ip.replace(/\/32$/, '')),
        ),
      };
    },
  },
];

/** Decisions of every request of a case. */
export async function decisions(m: DeploymentModel, f: Facts, c: Case, overrides = {}) {
  return Promise.all(c.requests.map((r) => decide(m, f.env, r, overrides)));
}

export function passes(c: Case, ds: string[]): boolean {
  return c.expect === 'allow' ? ds.every((d) => d === 'Allowed') : ds.every((d) => d !== 'Allowed');
}
