/**
 * Allow-lists for every value that reaches a shell command or a file on a host.
 * Each entry pairs the pattern with the human description used in error messages.
 */
export interface AllowList {
  readonly pattern: RegExp;
  /** What is allowed, in words, for the error message. */
  readonly allowed: string;
}

const allow = (pattern: RegExp, allowed: string): AllowList => ({ pattern, allowed });

export const ALLOW = {
  deploymentName: allow(
    /^[a-z][a-z0-9-]{0,23}$/,
    'lowercase letters, digits and "-", starting with a letter, 1-24 characters',
  ),
  region: allow(/^[a-z]{2}(-[a-z]+)+-\d$/, 'an AWS region code such as us-east-1'),
  account: allow(/^\d{12}$/, 'a 12-digit AWS account id'),
  az: allow(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, 'an availability zone such as us-east-1a'),
  vpcId: allow(/^vpc-[0-9a-f]{8,17}$/, 'a VPC id such as vpc-0123456789abcdef0'),
  subnetId: allow(/^subnet-[0-9a-f]{8,17}$/, 'a subnet id such as subnet-0123456789abcdef0'),
  routeTableId: allow(/^rtb-[0-9a-f]{8,17}$/, 'a route table id such as rtb-0123456789abcdef0'),
  amiId: allow(/^ami-[0-9a-f]{8,17}$/, 'an AMI id such as ami-0123456789abcdef0'),
  fileSystemId: allow(/^fs-[0-9a-f]{8,17}$/, 'a file system id such as fs-0123456789abcdef0'),
  hostname: allow(
    /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/,
    'a DNS name or IPv4 address',
  ),
  absolutePath: allow(
    /^\/(?!.*\/\.\.?(\/|$))[A-Za-z0-9._+@-]+(\/[A-Za-z0-9._+@-]+)*$|^\/$/,
    'an absolute path of letters, digits and . _ + @ - (no spaces, no "..")',
  ),
  /** A directory on every host, for the job's own user: absolute, or under the user's `$HOME`. */
  userDir: allow(
    /^(\$HOME|\/(?!\.\.?(\/|$))[A-Za-z0-9._+@-]+)(\/(?!\.\.?(\/|$))[A-Za-z0-9._+@-]+)*$/,
    'an absolute path or one starting with $HOME/, of letters, digits and . _ + @ - (no spaces, no "..")',
  ),
  /** RPM NEVRA-ish version strings from env.cfg, e.g. xcontainer-4.12.0-v23.08.07+abaaf51.el7 */
  packageVersion: allow(
    /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}$/,
    'a package name-version of letters, digits and . _ + ~ -',
  ),
  imageName: allow(
    /^[a-z0-9]+([._-][a-z0-9]+)*(\/[a-z0-9]+([._-][a-z0-9]+)*)*(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$/,
    'a docker image name such as docker-base or team/app:1.2 (lowercase name, optional :tag)',
  ),
  size: allow(/^[1-9][0-9]{0,5}[MGT]$/, 'a size such as 50G (a whole number followed by M, G or T)'),
  instanceType: allow(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'an EC2 instance type such as m5d.xlarge'),
  instanceTypeOrFamily: allow(
    /^[a-z][a-z0-9-]*\d[a-z0-9-]*(\.[a-z0-9]+)?$/,
    'an EC2 instance type (m5.xlarge) or family (m5)',
  ),
  tagKey: allow(
    /^(?!aws:)[A-Za-z0-9 _.:/=+@-]{1,128}$/,
    'a tag key of letters, digits, spaces and _ . : / = + @ - (not starting with aws:)',
  ),
  tagValue: allow(/^[A-Za-z0-9 _.:/=+@-]{0,256}$/, 'a tag value of letters, digits, spaces and _ . : / = + @ -'),
  envVarName: allow(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name'),
  httpsUrl: allow(
    /^https:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._~%/+-]*)?$/,
    'an https:// URL without query string (http:// is refused: packages and keys would travel unauthenticated)',
  ),
  licenseKey: allow(
    /^(x-spot-metering|[A-Za-z0-9][A-Za-z0-9-]{15,127})$/,
    '"x-spot-metering" or a floating license key (16-128 letters, digits, -)',
  ),
  roleNamePrefix: allow(/^[A-Za-z0-9+=,.@_-]{1,32}$/, 'up to 32 characters of letters, digits and + = , . @ _ -'),
  iamPolicyArn: allow(/^arn:aws[a-z-]*:iam::(\d{12}|aws):policy\/[A-Za-z0-9+=,.@_/-]+$/, 'an IAM managed policy ARN'),
  keyPairName: allow(/^[A-Za-z0-9 ._-]{1,255}$/, 'an EC2 key pair name'),
  ssmParameter: allow(/^\/[A-Za-z0-9_.\-/]{1,1010}$/, 'an SSM parameter name starting with /'),
  amiNameFilter: allow(
    /^[A-Za-z0-9 ()[\]./_*?-]{1,128}$/,
    'an AMI name pattern (letters, digits, spaces, ()[]./_- and * ? wildcards)',
  ),
  amiOwner: allow(/^(\d{12}|amazon|aws-marketplace|self)$/, 'an account id, "amazon", "aws-marketplace" or "self"'),
  scheduleExpression: allow(
    /^cron\([0-9*?/,\-A-Z#L ]+\)$|^rate\(\d+ (minute|minutes|hour|hours|day|days)\)$/,
    'cron(...) or rate(N unit)',
  ),
  mountOptions: allow(/^[A-Za-z0-9_=.,:-]{1,256}$/, 'comma-separated mount options of letters, digits and _ = . : -'),
  lustreMountName: allow(/^[A-Za-z0-9]{1,16}$/, 'an FSx for Lustre mount name (letters and digits)'),
  deviceName: allow(/^\/dev\/[a-z0-9]+$/, 'a block device name such as /dev/sda1 or /dev/xvda'),
  posixUser: allow(
    /^[a-z_][a-z0-9_-]{0,31}$/,
    'a POSIX user name: lowercase letters, digits, _ and -, starting with a letter or _, at most 32 characters',
  ),
  excludePattern: allow(
    /^\/(?!.*\/\.\.?(\/|$))[A-Za-z0-9._+@*?-]+(\/[A-Za-z0-9._+@*?-]+)*$/,
    'an absolute path of letters, digits and . _ + @ -, with * and ? wildcards (no spaces, no "." or ".." components)',
  ),
  queueName: allow(
    /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/,
    'a queue/partition name of letters, digits and _ . -, starting with a letter',
  ),
} as const;
