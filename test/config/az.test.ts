/** AZ names: which AZs a new VPC spans, and whether a name can belong to the deployment's region. */

import { stringify } from 'yaml';
import { azBelongsToRegion, newVpcAzs, regionOfAz } from '../../lib/config/az';
import { checkConfigText } from '../../lib/config/load';

const findings = (config: object) => checkConfigText(stringify(config), 'site.yaml').findings;

describe('azBelongsToRegion', () => {
  test.each([
    ['us-east-1a', 'us-east-1', true],
    ['ap-northeast-1d', 'ap-northeast-1', true],
    ['us-east-1a', 'us-east-2', false],
    ['us-east-11a', 'us-east-1', false],
    ['us-east-1', 'us-east-1', false],
    ['us-east-1ab', 'us-east-1', false],
    ['us-west-2-lax-1a', 'us-west-2', false],
    ['eu-central-1A', 'eu-central-1', false],
  ])('%s in %s: %s', (az, region, expected) => {
    expect(azBelongsToRegion(az, region)).toBe(expected);
  });

  test('regionOfAz names the region an AZ belongs to', () => {
    expect(regionOfAz('ca-central-1d')).toBe('ca-central-1');
    expect(regionOfAz('not-an-az')).toBeUndefined();
  });
});

describe('newVpcAzs', () => {
  test('named AZs are used as given; otherwise a count resolved at deploy time (default 2)', () => {
    expect(newVpcAzs({ availabilityZones: ['us-west-1b', 'us-west-1c'] })).toEqual({
      kind: 'named',
      azs: ['us-west-1b', 'us-west-1c'],
    });
    expect(newVpcAzs({ maxAzs: 3 })).toEqual({ kind: 'deployTime', count: 3 });
    expect(newVpcAzs(undefined)).toEqual({ kind: 'deployTime', count: 2 });
  });
});

describe('check-config: network.newVpc.availabilityZones', () => {
  test('an AZ of another region is an error naming the field, the value and the region it belongs to', () => {
    const f = findings({
      deployment: { region: 'ap-northeast-1' },
      network: { newVpc: { availabilityZones: ['ap-northeast-1a', 'us-east-1b'] } },
    });
    expect(f).toContainEqual(
      expect.objectContaining({
        id: 'az-not-in-region',
        severity: 'error',
        path: 'network.newVpc.availabilityZones[1]',
        value: 'us-east-1b',
        message: 'is an availability zone of us-east-1, not of deployment.region ap-northeast-1',
      }),
    );
    expect(f.filter((x) => x.id === 'az-not-in-region')).toHaveLength(1);
  });

  test('a duplicate AZ and a maxAzs that contradicts the named AZs are errors', () => {
    const f = findings({
      deployment: { region: 'us-west-1' },
      network: { newVpc: { availabilityZones: ['us-west-1b', 'us-west-1b'], maxAzs: 3 } },
    });
    expect(f.map((x) => x.id)).toEqual(expect.arrayContaining(['az-duplicate', 'az-count-mismatch']));
  });

  test('AZs of the region pass', () => {
    const f = findings({
      deployment: { region: 'us-west-1' },
      network: { newVpc: { availabilityZones: ['us-west-1b', 'us-west-1c'] } },
    });
    expect(f.filter((x) => x.id.startsWith('az-'))).toEqual([]);
  });
});
