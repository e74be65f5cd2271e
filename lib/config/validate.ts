/**
 * Cross-field rules from the onboarding guide, run on the parsed config before anything is
 * created. Every rule reports; none throws. Each finding names the field, the value and what is
 * allowed. Single-field shape rules (types, allow-lists) are in schema.ts.
 */
import { AWS_LIMIT_RULES } from './aws-limits';
import { azRegionFindings, newVpcAzFindings } from './az';
import { cidrContains, cidrsOverlap, hasHostBits, parseCidr } from './cidr';
import { tomlExtraFindings } from './extra';
import type { Finding } from './findings';
import { capacityOf, cpuVendor, hasLocalNvme, isGraviton, isNitro, unknownInstanceName } from './instance-types';
import { configTomlData, dockerWrapperTomlData, LOG_UPLOAD_ENV_KEYS } from './render';
import { MAX_JOB_SLOTS, sizeToGb, type XspotConfig } from './resolve';

/** The guide's recommended controller: "4 CPUs (2 cores) and 8GB memory and a local SSD". */
export const GUIDE_CONTROLLER_VCPUS = 4;
export const GUIDE_CONTROLLER_MEMORY_GIB = 8;

/** The guide's capacity equation: containers + workers * 2 <= 245 per controller. */
export const CAPACITY_LIMIT = 245;

type Rule = (c: XspotConfig) => Finding[];

const err = (id: string, path: string, value: unknown, message: string, allowed?: string): Finding => ({
  id,
  severity: 'error',
  path,
  value,
  message,
  ...(allowed ? { allowed } : {}),
});
const warn = (id: string, path: string, value: unknown, message: string, allowed?: string): Finding => ({
  ...err(id, path, value, message, allowed),
  severity: 'warning',
});

/**
 * Unsigned packages: without the vendor's key the worker image and the controllers install the
 * kernel, hypervisor and X-Spot unchecked. A site whose repository truly publishes no key says so
 * by acknowledging this warning; until then it is an error.
 */
const packageSigningRule: Rule = (c) =>
  c.xspot.repositoryGpgKey === undefined
    ? [
        ...(c.xspot.repositoryMetadataSigned
          ? [
              err(
                'metadata-signing-without-key',
                'xspot.repositoryMetadataSigned',
                true,
                'signed repository metadata (repo_gpgcheck=1) needs the key that signs it',
                'false, or set xspot.repositoryGpgKey',
              ),
            ]
          : []),
        {
          ...warn(
            'unsigned-packages',
            'xspot.repositoryGpgKey',
            undefined,
            'no package-signing key: the worker image and the controllers would install the kernel, hypervisor and X-Spot packages with gpgcheck=0',
            "the vendor's key (an https:// URL of it or the ASCII-armored key); only a repository that publishes no key acknowledges unsigned-packages",
          ),
          mustAcknowledge: true,
        },
      ]
    : [];

const regionRule: Rule = (c) =>
  /^us-gov-/.test(c.deployment.region)
    ? [
        err(
          'govcloud-region',
          'deployment.region',
          c.deployment.region,
          'GovCloud regions are not supported',
          'a commercial AWS region such as us-east-1',
        ),
      ]
    : [];

const overlayRules: Rule = (c) => {
  const out: Finding[] = [];
  const overlay = c.workers.overlayPrefix;
  if (parseCidr(overlay).prefix !== 24) {
    out.push(
      err(
        'overlay-not-class-c',
        'workers.overlayPrefix',
        overlay,
        'the overlay network is a class C (/24) network',
        'a /24 such as 192.168.137.0/24',
      ),
    );
  }
  if (hasHostBits(overlay)) {
    out.push(
      err(
        'overlay-host-bits',
        'workers.overlayPrefix',
        overlay,
        'the address has host bits set',
        'a network address such as 192.168.137.0/24',
      ),
    );
  }
  for (const cidr of c.resolved.vpcCidrs) {
    if (cidrsOverlap(overlay, cidr)) {
      out.push(
        err(
          'overlay-overlaps-vpc',
          'workers.overlayPrefix',
          overlay,
          `overlaps the VPC/subnet CIDR ${cidr}`,
          `a /24 outside ${c.resolved.vpcCidrs.join(', ')}`,
        ),
      );
    }
  }
  return out;
};

const networkRules: Rule = (c) => {
  const out: Finding[] = [];
  const n = c.network;
  if (n.newVpc && n.existingVpc) {
    out.push(
      err(
        'network-vpc-ambiguous',
        'network',
        'newVpc and existingVpc',
        'both a new and an existing VPC are configured',
        'either network.newVpc or network.existingVpc',
      ),
    );
  }
  if (n.existingVpc) {
    n.existingVpc.privateSubnets.forEach((s, i) => {
      if (!n.existingVpc!.cidrBlocks.some((b) => cidrContains(b, s.cidr))) {
        out.push(
          err(
            'subnet-outside-vpc',
            `network.existingVpc.privateSubnets[${i}].cidr`,
            s.cidr,
            'the subnet CIDR is not inside any of the VPC CIDR blocks',
            n.existingVpc!.cidrBlocks.join(', '),
          ),
        );
      }
    });
    if (n.existingVpc.addS3Endpoint) {
      n.existingVpc.privateSubnets.forEach((s, i) => {
        if (!s.routeTableId) {
          out.push(
            err(
              's3-endpoint-needs-route-table',
              `network.existingVpc.privateSubnets[${i}].routeTableId`,
              undefined,
              "network.existingVpc.addS3Endpoint adds the endpoint to each private subnet's route table, and this one is not named",
              "the subnet's route table id (rtb-...), or addS3Endpoint: false",
            ),
          );
        }
      });
    }
    const subnets = n.existingVpc.privateSubnets;
    out.push(
      ...azRegionFindings(
        subnets.map((s) => s.availabilityZone),
        c.deployment.region,
        (i) => `network.existingVpc.privateSubnets[${i}].availabilityZone`,
      ),
    );
    const ids = subnets.map((s) => s.id);
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    if (dup)
      out.push(
        err(
          'subnet-duplicate',
          'network.existingVpc.privateSubnets',
          dup,
          'the same subnet is listed twice',
          'distinct subnet ids',
        ),
      );
  }
  out.push(...newVpcAzFindings(n.newVpc, c.deployment.region));
  if (n.newVpc && parseCidr(n.newVpc.cidr).prefix > 24) {
    out.push(
      err(
        'vpc-too-small',
        'network.newVpc.cidr',
        n.newVpc.cidr,
        'the VPC is too small for public and private subnets in each AZ',
        'a prefix of /24 or larger (e.g. /16)',
      ),
    );
  }
  n.applicationIngress.forEach((r, i) => {
    const to = r.toPort ?? r.fromPort;
    if (to < r.fromPort) {
      out.push(
        err(
          'ingress-port-range',
          `network.applicationIngress[${i}].toPort`,
          to,
          `is below fromPort ${r.fromPort}`,
          `a port >= ${r.fromPort}`,
        ),
      );
    }
    r.cidrs.forEach((cidr, j) => {
      if (parseCidr(cidr).prefix === 0) {
        const path = `network.applicationIngress[${i}].cidrs[${j}]`;
        if (n.allowWorldIngress) {
          out.push(
            warn(
              'world-ingress',
              path,
              cidr,
              `opens ${r.protocol} ${r.fromPort}-${to} to the whole internet`,
              "the site's own CIDR blocks",
            ),
          );
        } else {
          out.push(
            err(
              'world-ingress',
              path,
              cidr,
              'ingress from anywhere is refused unless network.allowWorldIngress is true',
              "the site's own CIDR blocks",
            ),
          );
        }
      }
    });
  });
  return out;
};

/**
 * The docker disk against CONTAINER_FS_SIZE: the guide treats this as expected usage ("we may run
 * into issues if 10 or more containers are concurrently using 30G"), so over-commit is a warning
 * that states the ratio and what happens when it is reached. Shared with check-config --live.
 */
export function dockerDiskOvercommit(
  containers: number,
  containerFsSize: string,
  diskGb: number,
  disk: string,
): { message: string; allowed: string } | undefined {
  const fsGb = sizeToGb(containerFsSize);
  const need = fsGb * containers;
  if (need <= diskGb) return undefined;
  const fit = Math.floor(diskGb / fsGb);
  const ratio = need / diskGb;
  return {
    message:
      `${containers} containers x CONTAINER_FS_SIZE ${containerFsSize} = ${need} GB is ${ratio.toFixed(1)}x ${disk} (${diskGb} GB): ` +
      `when more than ${fit} container${fit === 1 ? '' : 's'} fill their CONTAINER_FS_SIZE at the same time, jobs fail with "No space left on device"`,
    allowed: `at most ${fit} containers for no over-commit, a smaller xspot.containerFsSize or a larger docker disk; acknowledge this warning when jobs write far less than CONTAINER_FS_SIZE`,
  };
}

const capacityRules: Rule = (c) => {
  const out: Finding[] = [];
  const r = c.resolved;
  const ctl = c.controllers;
  const used = r.maxContainers + r.maxWorkers * 2;
  if (used > CAPACITY_LIMIT) {
    out.push(
      err(
        'controller-capacity-equation',
        ctl.maxWorkers !== undefined && ctl.maxContainers === undefined
          ? 'controllers.maxWorkers'
          : 'controllers.maxContainers',
        { maxContainers: r.maxContainers, maxWorkers: r.maxWorkers },
        `containers + 2 x workers = ${used} exceeds ${CAPACITY_LIMIT}, the guide's limit of X-Spot metadata connections per controller`,
        `maxContainers + 2 x maxWorkers <= ${CAPACITY_LIMIT} (with one worker per container, at most 81 containers; a smaller controllers.maxWorkers packs containers on workers)`,
      ),
    );
  }
  if (r.slotsPerController > MAX_JOB_SLOTS) {
    out.push(
      err(
        'job-slots-over-80',
        'scheduler.slotsPerController',
        r.slotsPerController,
        `a single controller should be limited to ${MAX_JOB_SLOTS} job slots`,
        `1-${MAX_JOB_SLOTS}`,
      ),
    );
  }
  // A controller type that does not exist is an error of its own (instanceRules); hints about its
  // disk would only suggest settings (dockerVolumeGb) that hide the typo.
  const knownType = unknownInstanceName(ctl.instanceType, false) === undefined;
  if (r.dockerDiskGb !== undefined) {
    const disk = r.dockerDisk === 'ebs' ? 'the EBS docker volume' : `the instance store of ${ctl.instanceType}`;
    const over = dockerDiskOvercommit(r.maxContainers, c.xspot.containerFsSize, r.dockerDiskGb, disk);
    if (over)
      out.push(
        warn('docker-disk-overcommit', 'controllers.maxContainers', r.maxContainers, over.message, over.allowed),
      );
  } else if (knownType) {
    out.push(
      warn(
        'docker-disk-unknown',
        'controllers.instanceType',
        ctl.instanceType,
        `the instance-store size of ${ctl.instanceType} is not known offline, so disk over-commit (containers x CONTAINER_FS_SIZE) is not checked`,
        'run check-config --live (it reads the size from the account), or set controllers.dockerVolumeGb for an EBS docker disk',
      ),
    );
  }
  const size = knownType ? capacityOf(ctl.instanceType) : undefined;
  if (size && (size.vcpus < GUIDE_CONTROLLER_VCPUS || size.memoryGiB < GUIDE_CONTROLLER_MEMORY_GIB)) {
    out.push(
      warn(
        'controller-below-guide-size',
        'controllers.instanceType',
        ctl.instanceType,
        `has ${size.vcpus} vCPUs and ${size.memoryGiB} GiB; the guide recommends ${GUIDE_CONTROLLER_VCPUS} vCPUs and ${GUIDE_CONTROLLER_MEMORY_GIB} GB of memory for a controller`,
        'c5d.xlarge or m5d.xlarge (the guide), or larger',
      ),
    );
  }
  if (knownType && !hasLocalNvme(ctl.instanceType)) {
    out.push(
      warn(
        'controller-no-local-nvme',
        'controllers.instanceType',
        ctl.instanceType,
        `has no local NVMe SSD; docker will use a ${r.dockerDiskGb} GB EBS volume, which is slower`,
        'a type with "d" such as m5d.xlarge or c5d.xlarge',
      ),
    );
  }
  if (!(ctl.minCapacity <= ctl.desiredCapacity && ctl.desiredCapacity <= ctl.maxCapacity)) {
    out.push(
      err(
        'controller-capacity-order',
        'controllers.desiredCapacity',
        { min: ctl.minCapacity, desired: ctl.desiredCapacity, max: ctl.maxCapacity },
        'the controller counts are out of order',
        'minCapacity <= desiredCapacity <= maxCapacity',
      ),
    );
  }
  if (c.upgrade.minHealthyPercentage === 100 && c.upgrade.maxHealthyPercentage === 100) {
    out.push(
      err(
        'upgrade-no-room',
        'upgrade.maxHealthyPercentage',
        100,
        'with min and max healthy both 100% an instance refresh cannot replace anything',
        'maxHealthyPercentage > 100 (launch before terminate)',
      ),
    );
  }
  if (ctl.heartbeatSeconds >= ctl.bootstrapTimeoutMinutes * 60) {
    out.push(
      err(
        'heartbeat-too-long',
        'controllers.heartbeatSeconds',
        ctl.heartbeatSeconds,
        'must be shorter than the bootstrap timeout',
        `< ${ctl.bootstrapTimeoutMinutes * 60}`,
      ),
    );
  }
  return out;
};

const storageRules: Rule = (c) => {
  const out: Finding[] = [];
  const s = c.storage;
  const x = c.xspot;
  const under = (p: string) => s.mountPoint === '/' || p === s.mountPoint || p.startsWith(`${s.mountPoint}/`);
  // The guide asks only that REMOTE_DIR be on the shared file system: its mount point itself is fine.
  if (!under(x.remoteDir)) {
    out.push(
      err(
        'remote-dir-outside-storage',
        'xspot.remoteDir',
        x.remoteDir,
        `REMOTE_DIR must be on the shared file system mounted at ${s.mountPoint}`,
        `${s.mountPoint} or a path below it`,
      ),
    );
  }
  for (const [key, value] of [
    ['xspot.imageDeployDir', c.resolved.imageDeployDir],
    ['xspot.scriptDeployDir', c.resolved.scriptDeployDir],
  ] as const) {
    if (!under(value)) {
      out.push(
        err(
          'deploy-dir-not-shared',
          key,
          value,
          'must be on the shared file system so every controller sees it',
          `a path below ${s.mountPoint}/`,
        ),
      );
    }
  }
  if (s.type === 'efs' && s.existing) {
    out.push(
      err(
        'storage-existing-with-efs',
        'storage.existing',
        s.existing.dnsName,
        'storage.existing is only read when storage.type is nfs, lustre or ontap',
        'remove storage.existing, or set storage.type',
      ),
    );
  }
  if (s.type !== 'efs' && !s.existing) {
    out.push(
      err(
        'storage-existing-missing',
        'storage.existing',
        undefined,
        `storage.type ${s.type} uses an existing file system, which must be described`,
        'storage.existing with dnsName (and mountName for lustre)',
      ),
    );
  }
  if (s.type === 'lustre' && s.existing && !s.existing.mountName) {
    out.push(
      err(
        'lustre-mount-name',
        'storage.existing.mountName',
        undefined,
        'FSx for Lustre needs its mount name',
        "the file system's MountName, e.g. abcdef12",
      ),
    );
  }
  if (c.resolved.ontapNeeded && x.ontapFolders.length === 0) {
    out.push(
      err(
        'ontap-folders-required',
        'xspot.ontapFolders',
        x.ontapFolders,
        'ONTAP_NEEDED requires ONTAP_FOLDERS; a wrong list makes worker creation fail',
        'the full paths of the ONTAP folders the container needs',
      ),
    );
  }
  if (!c.resolved.ontapNeeded && x.ontapFolders.length > 0) {
    out.push(
      err(
        'ontap-folders-without-ontap',
        'xspot.ontapFolders',
        x.ontapFolders,
        'ONTAP_FOLDERS is set but ONTAP_NEEDED is off',
        'set xspot.ontapNeeded: true (and autofsNeeded when autofs mounts ONTAP)',
      ),
    );
  }
  if (
    c.resolved.ontapNeeded &&
    !x.autofsNeeded &&
    c.workerImage.mounts.filter((m) => m.type === 'ontap').length === 0
  ) {
    out.push(
      warn(
        'ontap-worker-mounts',
        'workerImage.mounts',
        c.workerImage.mounts,
        "ONTAP without autofs needs the ONTAP volumes mounted on workers (the guide's customize_worker_ami.sh)",
        'one workerImage.mounts entry of type ontap per ONTAP server, or xspot.autofsNeeded: true',
      ),
    );
  }
  out.push(...ontapFolderFindings(c));
  return out;
};

/**
 * ONTAP without autofs: the workers mount the ONTAP volumes from workerImage.mounts, and the guide
 * says every ONTAP_FOLDERS entry must be among those mounts ("make sure all the mount points are
 * listed from env.cfg's ONTAP_FOLDERS"); a folder no worker mount holds fails worker creation.
 */
function ontapFolderFindings(c: XspotConfig): Finding[] {
  const mounts = c.workerImage.mounts.filter((m) => m.type === 'ontap').map((m) => m.mountPoint);
  if (!c.resolved.ontapNeeded || c.xspot.autofsNeeded || mounts.length === 0) return [];
  const within = (folder: string, mp: string) => mp === '/' || folder === mp || folder.startsWith(`${mp}/`);
  const out: Finding[] = [];
  c.xspot.ontapFolders.forEach((folder, i) => {
    if (mounts.some((mp) => within(folder, mp))) return;
    out.push(
      err(
        'ontap-folder-not-mounted',
        `xspot.ontapFolders[${i}]`,
        folder,
        `no ONTAP worker mount holds it (workerImage.mounts of type ontap: ${mounts.join(', ')}); worker creation fails on a folder the worker has not mounted`,
        `a folder at or below ${mounts.join(' or ')}, or a workerImage.mounts entry of type ontap for it`,
      ),
    );
  });
  mounts.forEach((mp) => {
    if (c.xspot.ontapFolders.some((folder) => within(folder, mp))) return;
    const i = c.workerImage.mounts.findIndex((m) => m.type === 'ontap' && m.mountPoint === mp);
    out.push(
      warn(
        'ontap-mount-not-in-folders',
        `workerImage.mounts[${i}].mountPoint`,
        mp,
        'this ONTAP volume is mounted on workers but no xspot.ontapFolders entry is in it, so containers do not see it',
        `xspot.ontapFolders with ${mp} or a folder below it`,
      ),
    );
  });
  return out;
}

const imageRules: Rule = (c) => {
  const out: Finding[] = [];
  const ct = c.containers;
  if (!(ct.randBackoffRatio >= 0 && ct.randBackoffRatio < 1)) {
    out.push(
      err('rand-backoff-ratio', 'containers.randBackoffRatio', ct.randBackoffRatio, 'out of range', '0 <= x < 1'),
    );
  }
  if (!ct.approvedContainerImages.includes(ct.containerImage)) {
    out.push(
      err(
        'container-image-not-approved',
        'containers.containerImage',
        ct.containerImage,
        'is not in containers.approvedContainerImages',
        ct.approvedContainerImages.join(', '),
      ),
    );
  }
  if (!c.xspot.imageNameList.includes(ct.containerImage)) {
    out.push(
      err(
        'container-image-not-built',
        'containers.containerImage',
        ct.containerImage,
        'is not in xspot.imageNameList, so no controller builds it',
        c.xspot.imageNameList.join(', '),
      ),
    );
  }
  ct.approvedContainerImages.forEach((img, i) => {
    if (!c.xspot.imageNameList.includes(img)) {
      out.push(
        warn(
          'approved-image-not-built',
          `containers.approvedContainerImages[${i}]`,
          img,
          'is approved but not in xspot.imageNameList, so no controller builds it',
          c.xspot.imageNameList.join(', '),
        ),
      );
    }
  });
  if (c.scheduler.type !== 'none' && !ct.approvedContainerImages.includes(c.scheduler.image)) {
    out.push(
      err(
        'scheduler-image-not-approved',
        'scheduler.image',
        c.scheduler.image,
        'scheduler jobs would use an image exorun refuses',
        ct.approvedContainerImages.join(', '),
      ),
    );
  }
  return out;
};

const AL2023 = /al2023|amazon linux 2023|amzn2023/i;

/** Every instance type or family the config names, with its field path and whether a bare family is allowed. */
function instanceNames(c: XspotConfig): { path: string; value: string; familyAllowed: boolean }[] {
  const list = (path: string, values: readonly string[], familyAllowed: boolean) =>
    values.map((value, i) => ({ path: `${path}[${i}]`, value, familyAllowed }));
  return [
    { path: 'controllers.instanceType', value: c.controllers.instanceType, familyAllowed: false },
    ...list('workerImage.builderInstanceTypes', c.workerImage.builderInstanceTypes, false),
    ...list('workers.onDemandTypes', c.workers.onDemandTypes, true),
    ...list('workers.spotFleetTypes', c.workers.spotFleetTypes, true),
  ];
}

const instanceRules: Rule = (c) => {
  const out: Finding[] = [];
  const unknown = new Set<string>();
  for (const { path, value, familyAllowed } of instanceNames(c)) {
    const problem = unknownInstanceName(value, familyAllowed);
    if (problem) {
      unknown.add(path);
      out.push(err('instance-type-unknown', path, value, problem.message, problem.allowed));
    } else if (isGraviton(value)) {
      out.push(
        err(
          'arch-not-x86-64',
          path,
          value,
          'is an arm64 (Graviton) type; X-Spot supports 64-bit x86 (x86_64) only',
          'an x86_64 type such as m5.xlarge',
        ),
      );
    }
  }
  c.workerImage.builderInstanceTypes.forEach((t, i) => {
    const nitro = isNitro(t);
    const path = `workerImage.builderInstanceTypes[${i}]`;
    if (unknown.has(path)) return;
    if (nitro === false) {
      out.push(
        err(
          'builder-not-nitro',
          path,
          t,
          'the AMI builder must be Nitro-based (t2.micro and other Xen types fail)',
          'a Nitro type such as c5.xlarge or m5.xlarge',
        ),
      );
    } else if (nitro === undefined) {
      out.push(
        warn(
          'builder-nitro-unknown',
          path,
          t,
          'cannot tell offline whether this type is Nitro-based; check-config --live confirms it',
          'a Nitro type such as c5.xlarge or m5.xlarge',
        ),
      );
    }
  });
  const vendors = new Set(
    [...c.workers.onDemandTypes, ...c.workers.spotFleetTypes]
      .map(cpuVendor)
      .filter((v) => v === 'intel' || v === 'amd'),
  );
  if (vendors.size > 1) {
    out.push(
      warn(
        'worker-cpu-vendor-mix',
        'workers.spotFleetTypes',
        [...c.workers.onDemandTypes, ...c.workers.spotFleetTypes],
        'the worker lists mix AMD and Intel types; live migration between them is not supported',
        'only Intel or only AMD families',
      ),
    );
  }
  const p = c.workerImage.parentImage;
  const text = 'name' in p ? p.name : 'ssmParameter' in p ? p.ssmParameter : '';
  if (AL2023.test(text)) {
    out.push(
      err(
        'amazon-linux-2023',
        'workerImage.parentImage',
        text,
        'Amazon Linux 2023 is not supported by X-Spot',
        'a CentOS 7 / EL7-family image',
      ),
    );
  }
  return out;
};

const amiRules: Rule = (c) => {
  const out: Finding[] = [];
  if (!c.workers.ami) {
    out.push(
      warn(
        'worker-ami-unset',
        'workers.ami',
        undefined,
        'no worker AMI yet: controllers start but cannot launch workers',
        'run `xspot-cdk ami build --wait`, then set workers.ami to the AMI id it prints',
      ),
    );
  }
  if (c.controllers.amiId === 'ami-0123456789abcdef0') {
    out.push(
      warn(
        'controller-ami-placeholder',
        'controllers.amiId',
        c.controllers.amiId,
        'is the example placeholder; controllers need your validated EL7-family compute-node image',
        'the AMI id of your controller image',
      ),
    );
  }
  return out;
};

const logRules: Rule = (c) => {
  const out: Finding[] = [];
  const l = c.logs;
  if (l.transitionToInfrequentAccessDays < 30) {
    out.push(
      err(
        'log-transition-too-early',
        'logs.transitionToInfrequentAccessDays',
        l.transitionToInfrequentAccessDays,
        'S3 moves objects to Infrequent Access only after 30 days or more',
        '>= 30',
      ),
    );
  }
  if (l.expireDays <= l.transitionToInfrequentAccessDays) {
    out.push(
      err(
        'log-expiry-before-transition',
        'logs.expireDays',
        l.expireDays,
        'logs would expire before they move to Infrequent Access',
        `> ${l.transitionToInfrequentAccessDays}`,
      ),
    );
  }
  if (l.athena && !l.s3Sync) {
    out.push(
      err(
        'athena-without-log-sync',
        'logs.athena',
        l.athena,
        'the Athena table reads the logs the controllers sync to S3, and logs.s3Sync is false',
        'false, or set logs.s3Sync: true',
      ),
    );
  }
  return out;
};

/**
 * IS_SYSTEMD: the guide's `IS_SYSTEMD=no` selects the vendor's assets for hosts without systemd.
 * The controller runtime is systemd units (post-docker, log sync, lifecycle watch), and the host
 * check refuses `no`; refusing it here keeps `check-config` and the boot in agreement.
 */
const systemdRule: Rule = (c) =>
  c.xspot.isSystemd
    ? []
    : [
        err(
          'is-systemd-required',
          'xspot.isSystemd',
          false,
          "IS_SYSTEMD=no (the guide's non-systemd assets) is not supported: the controller runtime runs as systemd units (post-docker, log sync, lifecycle watch), so every boot would fail its host check",
          'true (EL7-family controller images run systemd)',
        ),
      ];

/** xspot.extra: vendor keys pass through, but never over a key xspot-cdk renders from a typed field. */
const extraRule: Rule = (c) => {
  const e = c.xspot.extra;
  const out = [
    ...tomlExtraFindings('configToml', 'config.toml', configTomlData(c, true) as never, e.configToml),
    ...tomlExtraFindings(
      'dockerWrapperToml',
      'dockerWrapper.toml',
      dockerWrapperTomlData(c) as never,
      e.dockerWrapperToml,
    ),
  ];
  for (const key of Object.keys(e.logUploadEnv)) {
    if (LOG_UPLOAD_ENV_KEYS.includes(key)) {
      out.push(
        err(
          'extra-overrides-rendered',
          `xspot.extra.logUploadEnv.${key}`,
          e.logUploadEnv[key],
          `log_upload.env key ${key} is rendered by xspot-cdk from a config field; extra keys may only add`,
          'set logs.logPath',
        ),
      );
    }
  }
  return out;
};

const RULES: readonly Rule[] = [
  systemdRule,
  logRules,
  regionRule,
  overlayRules,
  networkRules,
  capacityRules,
  storageRules,
  imageRules,
  instanceRules,
  amiRules,
  extraRule,
  ...AWS_LIMIT_RULES,
  packageSigningRule,
];

export function validateConfig(config: XspotConfig): Finding[] {
  return RULES.flatMap((rule) => rule(config));
}
