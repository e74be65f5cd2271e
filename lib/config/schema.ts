/**
 * The one config file that describes a whole X-Spot deployment (YAML on disk, camelCase keys).
 * Every setting the onboarding guide names is here with the guide's default; `.describe()`
 * carries the guide's own name for it (env.cfg / config.toml / dockerWrapper.toml keys) into the
 * exported JSON Schema so editors show it. Cross-field rules live in validate.ts.
 */
import { z } from 'zod';
import { armoredKeyProblem, KEY_ALLOWED, keyUrlProblem, normaliseArmoredKey } from './package-signing';
import { ALLOW, type AllowList } from './patterns';

const str = (a: AllowList) => z.string().regex(a.pattern, { message: `must be ${a.allowed}` });

/** Directories: trailing slashes are stripped, as env.cfg does. */
const dir = () =>
  z
    .string()
    .transform((v) => (v.length > 1 ? v.replace(/\/+$/, '') : v))
    .pipe(str(ALLOW.absolutePath));

const ipv4Cidr = z.string().regex(/^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(\d|[12]\d|3[0-2])$/, {
  message: 'must be an IPv4 CIDR block such as 10.0.0.0/16',
});

const posInt = (max?: number) => {
  const i = z.number().int({ message: 'must be a whole number' }).positive({ message: 'must be greater than 0' });
  return max === undefined ? i : i.max(max, { message: `must be at most ${max}` });
};

/** EC2 and most AWS resources take at most 50 user tags; `reserved` of them are xspot-cdk's own. */
const tags = (reserved: number, own: string) =>
  z.record(str(ALLOW.tagKey), str(ALLOW.tagValue)).superRefine((o, ctx) => {
    const n = Object.keys(o).length;
    if (n > 50 - reserved) {
      ctx.addIssue({
        code: 'custom',
        message: `${n} tags: AWS allows 50 tags per resource and xspot-cdk adds ${own}`,
        params: { allowed: `<= ${50 - reserved} tags`, id: 'out-of-range' },
      });
    }
  });

/** xspot.repositoryGpgKey: an https URL of the vendor's key or the armored key (package-signing.ts). */
const gpgKey = z
  .string()
  .transform((v) => (v.trimStart().startsWith('-----BEGIN') ? normaliseArmoredKey(v) : v))
  .pipe(
    z.string().superRefine((v, ctx) => {
      const problem = v.startsWith('-----BEGIN') ? armoredKeyProblem(v) : keyUrlProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, params: { allowed: KEY_ALLOWED } });
    }),
  );

// ---------------------------------------------------------------------------------------------
export const DeploymentSchema = z
  .strictObject({
    name: str(ALLOW.deploymentName).default('xspot').describe('Deployment name: prefixes stacks, resources and tags'),
    region: str(ALLOW.region).default('us-east-1').describe('AWS region (GovCloud is not supported)'),
    account: str(ALLOW.account).optional().describe('AWS account id; when set, deploys are pinned to it'),
    tags: tags(3, 'xspot:deployment, xspot:component and Name').default({}).describe('Tags applied to every resource'),
  })
  .describe('Where and under which name X-Spot is deployed');

const IngressRuleSchema = z.strictObject({
  description: z
    .string()
    .min(1)
    .max(200)
    .regex(/^[A-Za-z0-9 ._:/()#,@+=&;{}!$*-]+$/, {
      message: 'must be 1-200 characters of letters, digits, spaces and ._:/()#,@+=&;{}!$*-',
    }),
  protocol: z.enum(['tcp', 'udp', 'icmp']).default('tcp'),
  fromPort: z.number().int().min(0).max(65535),
  toPort: z.number().int().min(0).max(65535).optional().describe('Defaults to fromPort'),
  cidrs: z.array(ipv4Cidr).min(1),
});

const NewVpcSchema = z.strictObject({
  cidr: ipv4Cidr
    .default('10.0.0.0/16')
    .describe('A /16 to /24 block (Amazon VPC allows /16 to /28; subnets per AZ need /24 or larger)'),
  availabilityZones: z
    .array(str(ALLOW.az))
    .min(1)
    .max(6)
    .optional()
    .describe(
      'AZs to span, e.g. [ap-northeast-1a, ap-northeast-1c, ap-northeast-1d]; when unset, the first maxAzs AZs CloudFormation returns for the region (Fn::GetAZs) at deploy time',
    ),
  maxAzs: posInt(6).optional().describe('Number of AZs when availabilityZones is not set (default 2)'),
  natGateways: z.enum(['one', 'perAz']).default('one').describe('One NAT gateway, or one per AZ for resilience'),
});

const ExistingSubnetSchema = z.strictObject({
  id: str(ALLOW.subnetId),
  cidr: ipv4Cidr,
  availabilityZone: str(ALLOW.az),
  routeTableId: str(ALLOW.routeTableId).optional(),
});

const ExistingVpcSchema = z.strictObject({
  vpcId: str(ALLOW.vpcId),
  cidrBlocks: z.array(ipv4Cidr).min(1).describe('Every CIDR block of the VPC, including secondary ones'),
  privateSubnets: z.array(ExistingSubnetSchema).min(1).describe('Subnets for controllers and workers (behind a NAT)'),
  addS3Endpoint: z
    .boolean()
    .default(false)
    .describe(
      "Add an S3 gateway endpoint to the private subnets' route tables (needs every routeTableId; fails if the VPC already has one)",
    ),
  flowLogs: z
    .boolean()
    .default(false)
    .describe('Add a VPC-wide flow log to CloudWatch Logs (a VPC the site owns usually has its own)'),
  natPublicIps: z
    .array(ipv4Cidr)
    .default([])
    .describe(
      'Public addresses (CIDRs) of the NAT gateways the private subnets use: when set, controller and worker credentials are refused from anywhere else',
    ),
});

export const NetworkSchema = z
  .strictObject({
    newVpc: NewVpcSchema.optional().describe('Create a VPC (the default when existingVpc is not set)'),
    existingVpc: ExistingVpcSchema.optional().describe('Use an existing VPC; no AWS lookups at synth time'),
    applicationIngress: z
      .array(IngressRuleSchema)
      .default([])
      .describe('Inbound rules the site needs (SSH, license, license-vendor-daemon ports), from the given CIDRs only'),
    allowWorldIngress: z.boolean().default(false).describe('Allow 0.0.0.0/0 in applicationIngress (discouraged)'),
    egressCidrs: z
      .array(ipv4Cidr)
      .min(1)
      .default(['0.0.0.0/0'])
      .describe(
        'Where controllers and workers may send traffic; the default stays open through the NAT (EC2 API, X-Spot repository, entitlement server)',
      ),
    flowLogRetentionDays: posInt(3653).default(90),
  })
  .describe('The guide\'s "Prerequisites": VPC, subnets, NAT, security group');

export const IamSchema = z.strictObject({
  roleNamePrefix: str(ALLOW.roleNamePrefix)
    .optional()
    .describe(
      'Prefix for every IAM role name (sites with IAM naming rules): roles are <prefix><deployment.name>-<role>, at most 64 characters with the longest role, ami-lifecycle',
    ),
  permissionsBoundaryArn: str(ALLOW.iamPolicyArn).optional().describe('Permissions boundary attached to every role'),
  sessionManager: z.boolean().default(true).describe('Grant SSM Session Manager access (instead of SSH keys)'),
});

const ExistingStorageSchema = z.strictObject({
  fileSystemId: str(ALLOW.fileSystemId).optional().describe('FSx/EFS id, for check-config --live and tagging'),
  dnsName: str(ALLOW.hostname).describe('Server DNS name or IP'),
  exportPath: dir().default('/').describe('NFS export or ONTAP junction path'),
  mountName: str(ALLOW.lustreMountName).optional().describe('FSx for Lustre mount name'),
  mountOptions: str(ALLOW.mountOptions).optional(),
});

export const StorageSchema = z
  .strictObject({
    type: z
      .enum(['efs', 'nfs', 'lustre', 'ontap'])
      .default('efs')
      .describe('efs creates a file system; the others use an existing one'),
    mountPoint: dir()
      .default('/efs')
      .describe(
        'Where the shared file system is mounted on controllers (not over or inside a system directory such as /tmp)',
      ),
    efs: z
      .strictObject({
        throughputMode: z.enum(['elastic', 'bursting']).default('elastic'),
        performanceMode: z.enum(['generalPurpose', 'maxIO']).default('generalPurpose'),
        backups: z.boolean().default(true).describe('AWS Backup automatic backups'),
        removalPolicy: z.enum(['retain', 'destroy']).default('retain'),
      })
      .prefault({}),
    existing: ExistingStorageSchema.optional(),
  })
  .describe('Shared storage for REMOTE_DIR');

/** A TOML value as YAML writes it: strings, finite numbers, booleans, arrays and tables. */
export type TomlValue = string | number | boolean | TomlValue[] | { [key: string]: TomlValue };
const tomlKey = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, {
  message: 'must be a TOML bare key: 1-64 letters, digits, _ and -',
});
const tomlValue: z.ZodType<TomlValue> = z.lazy(() =>
  z.union([z.string().max(4096), z.number(), z.boolean(), z.array(tomlValue).max(256), z.record(tomlKey, tomlValue)]),
);
const tomlTable = z.record(tomlKey, tomlValue);

/** Keys and values that an env file read by `source` or systemd's EnvironmentFile takes as they are. */
const envValue = z.string().regex(/^[A-Za-z0-9_./:@%+=,-]{0,1024}$/, {
  message: 'must be up to 1024 letters, digits and _ . / : @ % + = , - (no spaces, quotes or $)',
});

const ExtraSchema = z
  .strictObject({
    configToml: tomlTable
      .default({})
      .describe('Keys merged into config.toml (e.g. { aws: { a_new_key: 1 } }); a key xspot-cdk renders is refused'),
    dockerWrapperToml: tomlTable
      .default({})
      .describe('Keys merged into dockerWrapper.toml; a key xspot-cdk renders is refused'),
    logUploadEnv: z
      .record(str(ALLOW.envVarName), envValue)
      .default({})
      .describe('KEY=value lines appended to log_upload.env; LOG_PATH is refused (set logs.logPath)'),
  })
  .describe('Vendor keys of a newer X-Spot release that xspot-cdk does not render yet, passed through as they are');

export const XspotSchema = z
  .strictObject({
    remoteDir: dir().default('/efs/deploy').describe('REMOTE_DIR: shared storage that houses production assets'),
    containerFsSize: str(ALLOW.size).default('50G').describe('CONTAINER_FS_SIZE: max disk a container may use'),
    imageDeployDir: dir().optional().describe('IMAGE_DEPLOY_DIR (default: REMOTE_DIR/images)'),
    scriptDeployDir: dir().optional().describe('SCRIPT_DEPLOY_DIR (default: REMOTE_DIR/scripts)'),
    lustreNeeded: z.boolean().default(false).describe('LUSTRE_NEEDED'),
    autofsNeeded: z.boolean().default(false).describe('AUTOFS_NEEDED'),
    ldapsNeeded: z.boolean().default(false).describe('LDAPS_NEEDED'),
    sssdNeeded: z.boolean().default(false).describe('SSSD_NEEDED'),
    ontapNeeded: z.boolean().default(false).describe('ONTAP_NEEDED'),
    ontapFolders: z.array(dir()).default([]).describe('ONTAP_FOLDERS: ONTAP folders the container needs'),
    imageNameList: z.array(str(ALLOW.imageName)).min(1).default(['docker-base']).describe('IMAGE_NAME_LIST'),
    rpmVersion: str(ALLOW.packageVersion).default('xspot-1.3.0.1-rc_5cb0ffb0.el7').describe('XSPOT_RPM_VERSION'),
    platformVersion: str(ALLOW.packageVersion)
      .default('xcontainer-4.12.0-v23.08.07+abaaf51.el7')
      .describe('XSPOT_PLATFORM'),
    kernelVersion: str(ALLOW.packageVersion)
      .default('kernel-4.19.49_xcontainer-v23.08.07+abaaf51')
      .describe('XSPOT_KERNEL'),
    guestKernelVersion: str(ALLOW.packageVersion)
      .default('xspot-guest-kernel-4.19.49-v23.08.07-abaaf5112.el7')
      .describe('XSPOT_GUEST_KERNEL'),
    cliWrapperVersion: str(ALLOW.packageVersion)
      .default('XSpotCLIWrapper-v2.0.0-0192f37.el7')
      .describe('CLI_WRAPPER_VERSION'),
    isSystemd: z
      .boolean()
      .default(true)
      .describe(
        "IS_SYSTEMD: must stay true (the controller runtime is systemd units; the guide's IS_SYSTEMD=no is refused)",
      ),
    repositoryUrl: str(ALLOW.httpsUrl)
      .default('https://rpm.exostellar.io/')
      .describe('X-Spot RPM repository (https only)'),
    repositoryGpgKey: gpgKey
      .optional()
      .describe(
        "The vendor's package-signing key: an https URL of the key, or the ASCII-armored public key (a YAML | block). The worker image and the controllers install with gpgcheck=1 against it. Unset only for a repository that publishes no key, and then only with the acknowledged warning unsigned-packages",
      ),
    repositoryMetadataSigned: z
      .boolean()
      .default(false)
      .describe('repo_gpgcheck=1: the repository metadata (repomd.xml) is signed with the same key'),
    extra: ExtraSchema.prefault({}),
  })
  .describe('env.cfg');

export const WorkersSchema = z
  .strictObject({
    ami: str(ALLOW.amiId).optional().describe('config.toml ami: the worker AMI built by the image pipeline'),
    overlayPrefix: ipv4Cidr.default('192.168.137.0/24').describe('config.toml overlay_prefix'),
    onDemandTypes: z.array(str(ALLOW.instanceTypeOrFamily)).min(1).default(['r5', 'r5n', 'r5b', 'r5d']),
    spotFleetTypes: z.array(str(ALLOW.instanceTypeOrFamily)).min(1).default(['r5', 'r5n', 'r5b', 'r5d']),
    hyperthreadingDisabled: z.boolean().default(false),
    instanceTags: tags(1, 'xspot:deployment').default({ Name: 'xspot-worker' }).describe('[aws.instance_tags]'),
  })
  .describe('config.toml: the workers X-Spot launches');

export const LicenseSchema = z.strictObject({
  key: str(ALLOW.licenseKey).default('x-spot-metering').describe('[license] key'),
});

const hookScript = z.string().regex(/^[A-Za-z0-9._/-]+\.sh$/, {
  message: 'must be a path to a .sh file (relative to the config file or absolute)',
});

export const ContainersSchema = z
  .strictObject({
    containerImage: str(ALLOW.imageName).default('docker-base').describe('container_image'),
    approvedContainerImages: z.array(str(ALLOW.imageName)).min(1).default(['docker-base']),
    logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error']).default('info'),
    envVarFilter: z
      .array(str(ALLOW.envVarName))
      .default([])
      .describe('env_var_filter: variables NOT passed into the container'),
    containerStartTimeoutMinutes: posInt(24 * 60)
      .default(30)
      .describe('container_start_timeout (minutes)'),
    randBackoffRatio: z.number().default(0.5).describe("rand_backoff_ration (the guide's spelling), 0 <= x < 1"),
    runtime: z.enum(['runxc', 'runc']).default('runxc'),
    scripts: z
      .strictObject({
        startup: hookScript.optional().describe('container_startup: startup.sh'),
        jobStartupUser: hookScript.optional(),
        jobStartupRoot: hookScript.optional(),
        jobCleanupUser: hookScript.optional(),
        jobCleanupRoot: hookScript.optional(),
      })
      .prefault({})
      .describe(
        "Site hook scripts (files you supply); a hook not named here is the X-Spot packages' own, never replaced",
      ),
    dockerfiles: z
      .record(
        str(ALLOW.imageName),
        z.string().regex(/^[A-Za-z0-9._/-]+$/, {
          message: 'must be a path to a Dockerfile (relative to the config file or absolute)',
        }),
      )
      .default({})
      .describe(
        'Dockerfile per image of IMAGE_NAME_LIST (images/<name>/docker_build_path/Dockerfile); default: the base snapshot as is',
      ),
    baseSnapshotExcludes: z
      .array(str(ALLOW.excludePattern))
      .max(200)
      .default([])
      .describe(
        'Paths `make base` leaves out of the controller snapshot, besides the built-in credential list (docs/security.md): site secrets such as /etc/site/*.key',
      ),
  })
  .describe('dockerWrapper.toml: exorun');

export const LogsSchema = z.strictObject({
  logPath: dir().default('/var/log/xspot').describe('log_upload.env LOG_PATH'),
  s3Sync: z.boolean().default(true),
  syncIntervalMinutes: posInt(24 * 60).default(60),
  transitionToInfrequentAccessDays: posInt().default(30),
  expireDays: posInt().default(365),
  athena: z
    .boolean()
    .default(false)
    .describe(
      'Glue table over the synced controller logs (partition projection) and an Athena workgroup, for `xspot-cdk cost --athena`',
    ),
});

export const ControllersSchema = z.strictObject({
  instanceType: str(ALLOW.instanceType).default('m5d.xlarge'),
  amiId: str(ALLOW.amiId)
    .default('ami-0123456789abcdef0')
    .describe('EL7-family controller image (a validated compute node)'),
  minCapacity: z.number().int().min(0).default(1),
  maxCapacity: posInt(100).default(2),
  desiredCapacity: z.number().int().min(0).default(1),
  maxContainers: posInt(243)
    .optional()
    .describe(
      "Containers per controller (default 80, the guide's job-slot recommendation); containers + 2 x workers <= 245",
    ),
  maxWorkers: posInt(122)
    .optional()
    .describe('Workers per controller (default: maxContainers, one worker per container)'),
  dockerVolumeGb: posInt(16384).optional().describe('EBS volume for docker when the type has no instance store'),
  rootVolumeGb: posInt(16384).default(50),
  rootDeviceName: str(ALLOW.deviceName)
    .default('/dev/sda1')
    .describe('Root device of the controller image (/dev/xvda for Amazon Linux 2)'),
  keyPairName: str(ALLOW.keyPairName).optional().describe('SSH key pair (Session Manager is the default)'),
  detailedMonitoring: z.boolean().default(true),
  bootstrapTimeoutMinutes: posInt(120).default(45).describe('Launch hook: how long a boot may take'),
  waitForBootOnCreate: z
    .boolean()
    .default(true)
    .describe(
      'Creating the stack waits until every desired controller passed `xspot check -f` (CloudFormation creation policy); a failed boot fails the deploy, naming the step',
    ),
  creationTimeoutMinutes: posInt(720)
    .optional()
    .describe('How long stack creation waits for the controllers (default bootstrapTimeoutMinutes + 15)'),
  awsCli: z
    .strictObject({
      version: z
        .string()
        .regex(/^2\.\d{1,3}\.\d{1,4}$/, { message: 'an AWS CLI v2 release such as 2.22.35' })
        .describe('AWS CLI v2 release the boot installs'),
      sha256: z
        .string()
        .regex(/^[0-9a-f]{64}$/, { message: '64 lower-case hex digits' })
        .describe('SHA-256 of awscli-exe-linux-x86_64-<version>.zip'),
    })
    .optional()
    .describe(
      "The AWS CLI v2 the guide asks for (log sync): when the controller image has no v2, the boot downloads this release over https and installs it only if its SHA-256 matches. Unset: the image's aws, else yum's awscli (v1 on EL7, with a warning); no aws at all fails the boot",
    ),
  heartbeatSeconds: z.number().int().min(30).max(7200).default(300),
  drainTimeoutMinutes: posInt(48 * 60)
    .default(120)
    .describe('Terminate hook: how long running jobs may finish'),
  imdsUsers: z
    .array(str(ALLOW.posixUser))
    .max(16)
    .default([])
    .describe(
      'Accounts besides root that may reach instance metadata (and so the controller role) on a controller, e.g. an X-Spot service account; every other user is refused by an owner-match firewall rule (docs/security.md)',
    ),
});

export const UpgradeSchema = z.strictObject({
  canary: z.boolean().default(true).describe('Replace one controller first and wait at a checkpoint'),
  checkpointDelayMinutes: posInt(2880).default(60),
  minHealthyPercentage: z.number().int().min(0).max(100).default(100),
  maxHealthyPercentage: z
    .number()
    .int()
    .min(100)
    .max(200)
    .default(200)
    .describe('At most minHealthyPercentage + 100 (Auto Scaling refuses a wider range)'),
  instanceWarmupSeconds: z
    .number()
    .int()
    .min(0)
    .max(3600)
    .default(0)
    .describe('Wait after a new controller is InService; its launch hook already passed xspot check -f'),
  autoRollback: z.boolean().default(true),
});

const ParentImageSchema = z.union([
  z.strictObject({ amiId: str(ALLOW.amiId) }),
  z.strictObject({ ssmParameter: str(ALLOW.ssmParameter) }),
  z.strictObject({ name: str(ALLOW.amiNameFilter), owners: z.array(str(ALLOW.amiOwner)).min(1) }),
]);

const WorkerMountSchema = z.strictObject({
  type: z.enum(['nfs', 'ontap']).default('nfs'),
  server: str(ALLOW.hostname),
  export: dir(),
  mountPoint: dir(),
  options: str(ALLOW.mountOptions).optional(),
});

export const WorkerImageSchema = z.strictObject({
  parentImage: ParentImageSchema.default({ name: 'CentOS Linux 7 x86_64*', owners: ['125523088429'] }).describe(
    'EL7-family parent: { amiId } | { ssmParameter } | { name, owners }',
  ),
  builderInstanceTypes: z.array(str(ALLOW.instanceType)).min(1).default(['c5.xlarge', 'm5.xlarge']),
  rootVolumeGb: posInt(16384).default(30),
  rootDeviceName: str(ALLOW.deviceName).default('/dev/sda1').describe('Root device of the parent image'),
  schedule: str(ALLOW.scheduleExpression).optional().describe('Pipeline schedule; manual when unset'),
  keepImages: posInt(100).default(3).describe('Images kept by the lifecycle policy'),
  mounts: z.array(WorkerMountSchema).default([]).describe('customize_worker_ami.sh mounts (ONTAP/NFS)'),
});

export const SchedulerSchema = z.strictObject({
  type: z.enum(['slurm', 'gridengine', 'lsf', 'none']).default('slurm'),
  queues: z
    .array(str(ALLOW.queueName))
    .min(1)
    .default(['xspot'])
    .describe(
      "X-Spot queues/partitions. The guide's Slurm plug-in knows xspot and chipspot; the default creates only xspot so no queue exists that nobody asked for: add chipspot ([xspot, chipspot]) if your users submit there",
    ),
  image: str(ALLOW.imageName).default('docker-base').describe('DOCKER_IMAGE for scheduler jobs'),
  exorunPath: dir().default('/usr/bin/exorun'),
  controllerCpus: posInt(64).default(1),
  controllerMemoryMb: posInt(65536).default(50),
  defaultCpus: posInt().default(1),
  defaultMemoryGb: posInt().default(1),
  slotsPerController: posInt()
    .optional()
    .describe('Job slots per controller (at most 80; default: maxContainers, up to 80)'),
  realSubmitCommand: dir().optional().describe('Path of the original sbatch/qsub/bsub for the wrappers'),
  scriptDir: str(ALLOW.userDir)
    .default('$HOME/.xspot/jobs')
    .describe("Where a job's script is saved for exorun at run time; on storage controllers and workers share"),
});

const AcknowledgementSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9-]+$/, { message: 'must be a warning id such as controller-no-local-nvme' }),
  reason: z.string().min(3, { message: 'must say why the warning is acceptable' }),
});

export const ConfigSchema = z.strictObject({
  example: z
    .string()
    .regex(/^config\/(examples\/)?[a-z0-9-]+\.yaml$/, {
      message:
        'must be the path of an example under config/, such as config/default.yaml or config/examples/gridengine.yaml',
    })
    .optional()
    .describe(
      "Only in the project's own examples: the file this is. A copy elsewhere gets none of the example's acknowledgements",
    ),
  deployment: DeploymentSchema.prefault({}),
  network: NetworkSchema.prefault({}),
  iam: IamSchema.prefault({}),
  storage: StorageSchema.prefault({}),
  xspot: XspotSchema.prefault({}),
  workers: WorkersSchema.prefault({}),
  license: LicenseSchema.prefault({}),
  containers: ContainersSchema.prefault({}),
  logs: LogsSchema.prefault({}),
  controllers: ControllersSchema.prefault({}),
  upgrade: UpgradeSchema.prefault({}),
  workerImage: WorkerImageSchema.prefault({}),
  scheduler: SchedulerSchema.prefault({}),
  acknowledgedWarnings: z.array(AcknowledgementSchema).default([]).describe('Warnings accepted by id, with a reason'),
});

/** The config as written (before defaults). */
export type XspotConfigInput = z.input<typeof ConfigSchema>;
/** The parsed config, every default filled in. */
export type ParsedConfig = z.output<typeof ConfigSchema>;
