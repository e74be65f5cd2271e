/**
 * Attacks a hostile HPC user would try against the scheduler hooks, as tables the scheduler
 * tests run against the real daemons, submitting as an unprivileged account. Each row names
 * its safe outcome: refused at submission (with the message), or run only through exorun
 * within the configured limits. Never the user's code natively on the controller. Benign
 * controls sit in the same tables so the defences are shown not to break honest jobs.
 *
 * Placeholders the tests fill in: PAYLOAD (a shell line that records where it ran: through
 * the stand-in exorun, which sets STANDIN_INSIDE_EXORUN, or natively), @PAYLOAD_FILE@ (a file
 * holding PAYLOAD, for BASH_ENV/ENV), @FAKE_BIN@ (a directory of the attacker's own mkdir,
 * mktemp, chmod, getent, id, cut, rm, cat that run PAYLOAD first).
 */

/**
 * The safe outcome: refused at submit with this message; run through exorun within the limits;
 * untouched (not an X-Spot job, runs as the site's scheduler runs it); or, where the scheduler
 * lets the request through and the starter is the last line, never native (refused by the
 * starter, or run through exorun within the limits).
 */
export type Safe = { readonly rejected: RegExp } | 'exorun' | 'untouched' | 'never-native';

export interface Attack {
  readonly id: string;
  /** What the attacker tries, and where it comes from (the issue, or a variant). */
  readonly note: string;
  /** How it is submitted (default: a batch job). */
  readonly via?:
    | 'batch'
    | 'srun'
    | 'salloc'
    | 'update'
    | 'step'
    | 'default-partition'
    | 'qrsh'
    | 'qalter'
    | 'sge-request';
  /** Submit options (the test adds hold and output options); for `step`, the srun options of the step. */
  readonly opts?: readonly string[];
  /** `step`: the options of the running job the step goes into (default: -p xspot). */
  readonly host?: readonly string[];
  /** The job script; default: a bash script that runs PAYLOAD. */
  readonly script?: string;
  /** Read the script from stdin instead of a file. */
  readonly stdin?: boolean;
  /** Extra variables in the submitter's environment. */
  readonly env?: Readonly<Record<string, string>>;
  /** Job script arguments. */
  readonly args?: readonly string[];
  readonly safe: Safe;
}

/** The limits of TEST_SETTINGS (cases.ts): 16 CPUs, 64 GB. */
export const SLURM_ATTACKS: readonly Attack[] = [
  // --- benign controls ---
  { id: 'control-plain', note: 'benign: a plain X-Spot job', opts: ['-p', 'xspot', '-n', '2'], safe: 'exorun' },
  {
    id: 'control-args',
    note: 'benign: arguments with spaces, quotes and $() stay arguments',
    opts: ['-p', 'xspot'],
    script: '#!/bin/bash\nPAYLOAD\nfor a in "$@"; do printf "ARG<%s>\\n" "$a"; done\n',
    args: ['a b', "it's", '$(id)', '`id`;id'],
    safe: 'exorun',
  },
  {
    id: 'control-other',
    note: 'benign: a job for another partition is untouched',
    opts: ['-p', 'debug'],
    safe: 'untouched',
  },
  {
    id: 'control-limit',
    note: 'benign: exactly the limits (16 CPUs, 64 GB)',
    opts: ['-p', 'xspot', '-n', '16', '--mem=64G'],
    safe: 'exorun',
  },
  // --- issue item 3: a marker in the user's own script ---
  {
    id: 'marker-in-script',
    note: 'issue: a script with the line "# xspot-launcher" was accepted unmodified',
    opts: ['-p', 'xspot'],
    script: '#!/bin/bash\n# xspot-launcher\nPAYLOAD\n',
    safe: 'exorun',
  },
  {
    id: 'marker-in-wrap',
    note: 'issue: --wrap with the marker',
    opts: ['-p', 'xspot', '--wrap', '# xspot-launcher\nPAYLOAD'],
    script: '',
    safe: 'exorun',
  },
  {
    id: 'launcher-imitation',
    note: "variant: a script imitating the launcher's first lines",
    opts: ['-p', 'xspot'],
    script:
      '#!/bin/bash -p\n# xspot-launcher (server): written at submit time by the X-Spot job_submit plugin.\n' +
      "# The job's own batch script is embedded below; this runs it as\nset -eu\nPAYLOAD\n",
    safe: 'exorun',
  },
  {
    id: 'marker-stdin',
    note: 'variant: the marker in a script on stdin',
    opts: ['-p', 'xspot'],
    script: '#!/bin/bash\n# xspot-launcher (client)\nPAYLOAD\n',
    stdin: true,
    safe: 'exorun',
  },
  {
    id: 'crlf-script',
    note: 'variant: a CRLF script with the marker',
    opts: ['-p', 'xspot'],
    script: '#!/bin/bash\r\n# xspot-launcher\r\nPAYLOAD\r\n',
    safe: { rejected: /DOS line breaks/ },
  },
  // --- issue item 2: the launcher honoured the job environment ---
  {
    id: 'bash-env',
    note: "issue: BASH_ENV runs user code before the launcher's first line",
    opts: ['-p', 'xspot'],
    env: { BASH_ENV: '@PAYLOAD_FILE@' },
    safe: 'exorun',
  },
  {
    id: 'env-env',
    note: 'variant: ENV (sh/posix mode start-up file)',
    opts: ['-p', 'xspot'],
    env: { ENV: '@PAYLOAD_FILE@' },
    safe: 'exorun',
  },
  {
    id: 'path-override',
    note: "issue: mkdir/mktemp/chmod resolved through the user's PATH",
    opts: ['-p', 'xspot'],
    env: { PATH: '@FAKE_BIN@:/usr/bin:/bin' },
    safe: 'exorun',
  },
  {
    id: 'exported-function',
    note: 'variant: an exported bash function named mkdir',
    opts: ['-p', 'xspot'],
    env: { 'BASH_FUNC_mkdir%%': '() { PAYLOAD; /bin/mkdir "$@"; }' },
    safe: 'exorun',
  },
  {
    id: 'shellopts',
    note: 'variant: SHELLOPTS/BASHOPTS from the environment',
    opts: ['-p', 'xspot'],
    env: { SHELLOPTS: 'xtrace', BASHOPTS: 'extdebug' },
    safe: 'exorun',
  },
  {
    id: 'home-override',
    note: '--export of HOME (the launcher reads it)',
    opts: ['-p', 'xspot'],
    env: { HOME: '/tmp' },
    safe: 'exorun',
  },
  {
    id: 'job-id-override',
    note: '--export of SLURM_JOB_ID (the launcher reads it)',
    opts: ['-p', 'xspot'],
    env: { SLURM_JOB_ID: '../../../tmp/x' },
    safe: 'exorun',
  },
  {
    id: 'xspot-vars-override',
    note: "--export of the client launcher's XSPOT_CPUS/XSPOT_MEM_GB/XSPOT_IMAGE",
    opts: ['-p', 'xspot'],
    env: { XSPOT_CPUS: '512', XSPOT_MEM_GB: '4096', XSPOT_SBATCH_WRAPPED: '1' },
    safe: 'exorun',
  },
  {
    id: 'ld-preload',
    note: 'variant: LD_PRELOAD loads a library into the launcher',
    opts: ['-p', 'xspot'],
    env: { LD_PRELOAD: '@FAKE_BIN@/x.so' },
    safe: { rejected: /sets LD_PRELOAD/ },
  },
  {
    id: 'ld-library-path',
    note: 'variant: LD_LIBRARY_PATH',
    opts: ['-p', 'xspot'],
    env: { LD_LIBRARY_PATH: '@FAKE_BIN@' },
    safe: { rejected: /sets LD_LIBRARY_PATH/ },
  },
  {
    id: 'ld-audit',
    note: 'variant: LD_AUDIT',
    opts: ['-p', 'xspot'],
    env: { LD_AUDIT: '@FAKE_BIN@/x.so' },
    safe: { rejected: /sets LD_AUDIT/ },
  },
  {
    id: 'gconv-path',
    note: 'variant: GCONV_PATH',
    opts: ['-p', 'xspot'],
    env: { GCONV_PATH: '@FAKE_BIN@' },
    safe: { rejected: /sets GCONV_PATH/ },
  },
  {
    id: 'export-none',
    note: 'variant: --export=NONE makes slurmd run the login scripts on the node',
    opts: ['-p', 'xspot', '--export=NONE'],
    safe: { rejected: /login environment/ },
  },
  {
    id: 'get-user-env',
    note: 'variant: --get-user-env',
    opts: ['-p', 'xspot', '--get-user-env'],
    safe: { rejected: /login environment/ },
  },
  {
    id: 'export-list',
    note: 'variant: --export with a list and no ALL',
    opts: ['-p', 'xspot', '--export=FOO=1'],
    safe: { rejected: /login environment/ },
  },
  {
    id: 'export-all-plus',
    note: 'variant: --export=ALL,BASH_ENV=... (Slurm 22.05 loads the login environment for any --export but ALL)',
    opts: ['-p', 'xspot', '--export=ALL,BASH_ENV=@PAYLOAD_FILE@'],
    safe: { rejected: /login environment/ },
  },
  {
    id: 'get-user-env-var',
    note: 'variant: SLURM_GET_USER_ENV set by hand',
    opts: ['-p', 'xspot', '--export=ALL,SLURM_GET_USER_ENV=1'],
    safe: { rejected: /login environment/ },
  },
  // --- sizes ---
  {
    id: 'cpus-just-above',
    note: 'sizes: 17 CPUs (limit 16)',
    opts: ['-p', 'xspot', '-n', '17'],
    safe: { rejected: /asks for 17 CPUs/ },
  },
  {
    id: 'cpus-far-above',
    note: 'sizes: 100000 CPUs',
    opts: ['-p', 'xspot', '-n', '100000'],
    safe: { rejected: /CPUs|Batch job submission failed/ },
  },
  {
    id: 'cpus-product',
    note: 'sizes: -n 5 -c 4 = 20 CPUs',
    opts: ['-p', 'xspot', '-n', '5', '-c', '4'],
    safe: { rejected: /asks for 20 CPUs/ },
  },
  {
    id: 'mem-just-above',
    note: 'sizes: 65 GB (limit 64)',
    opts: ['-p', 'xspot', '--mem=65G'],
    safe: { rejected: /asks for 65 GB/ },
  },
  {
    id: 'mem-far-above',
    note: 'sizes: 1000000 GB',
    opts: ['-p', 'xspot', '--mem=1000000G'],
    safe: { rejected: /GB of memory/ },
  },
  {
    id: 'mem-per-cpu',
    note: 'sizes: --mem-per-cpu=5G x 16 CPUs = 80 GB',
    opts: ['-p', 'xspot', '-n', '16', '--mem-per-cpu=5G'],
    safe: { rejected: /asks for 80 GB/ },
  },
  {
    id: 'image-not-approved',
    note: 'XSPOT_IMAGE outside the approved list',
    opts: ['-p', 'xspot'],
    env: { XSPOT_IMAGE: 'attacker/root' },
    safe: { rejected: /not an approved image/ },
  },
  // --- issue item 4: every spelling of the partition ---
  { id: 'part-abbrev', note: 'issue: --part=xspot (an abbreviation)', opts: ['--part=xspot'], safe: 'exorun' },
  { id: 'parti-abbrev', note: 'variant: --parti xspot', opts: ['--parti', 'xspot'], safe: 'exorun' },
  {
    id: 'sbatch-directive',
    note: 'variant: #SBATCH -p xspot',
    opts: [],
    script: '#!/bin/bash\n#SBATCH -p xspot\nPAYLOAD\n',
    safe: 'exorun',
  },
  {
    id: 'sbatch-partition-env',
    note: 'variant: SBATCH_PARTITION=xspot',
    opts: [],
    env: { SBATCH_PARTITION: 'xspot' },
    safe: 'exorun',
  },
  {
    id: 'multi-xspot',
    note: 'multi-partition: xspot,chipspot (both X-Spot)',
    opts: ['-p', 'xspot,chipspot'],
    safe: 'exorun',
  },
  {
    id: 'multi-mixed',
    note: 'multi-partition: debug,xspot',
    opts: ['-p', 'debug,xspot'],
    safe: { rejected: /mixes X-Spot and other partitions/ },
  },
  {
    id: 'multi-mixed-directive',
    note: 'multi-partition in a directive: #SBATCH -p xspot,debug',
    opts: [],
    script: '#!/bin/bash\n#SBATCH --partition=xspot,debug\nPAYLOAD\n',
    safe: { rejected: /mixes X-Spot/ },
  },
  {
    id: 'het-job',
    note: 'a heterogeneous job with an X-Spot component',
    opts: ['-p', 'debug', ':', '-p', 'xspot'],
    safe: { rejected: /batch jobs only|Batch job submission failed/ },
  },
  {
    id: 'default-partition',
    note: 'issue: no -p while the default partition is an X-Spot one',
    via: 'default-partition',
    opts: [],
    safe: 'exorun',
  },
  // --- other ways in ---
  {
    id: 'srun',
    note: 'srun -p xspot (an allocation with no launcher)',
    via: 'srun',
    opts: ['-p', 'xspot'],
    safe: { rejected: /batch jobs only/ },
  },
  {
    id: 'salloc',
    note: 'salloc -p xspot',
    via: 'salloc',
    opts: ['-p', 'xspot'],
    safe: { rejected: /batch jobs only/ },
  },
  {
    id: 'update-into-xspot',
    note: 'scontrol update moving a held job into xspot',
    via: 'update',
    opts: ['Partition=xspot'],
    safe: { rejected: /./ },
  },
  {
    id: 'update-into-mixed',
    note: 'scontrol update moving a held job into debug,chipspot',
    via: 'update',
    opts: ['Partition=debug,chipspot'],
    safe: { rejected: /./ },
  },
  // --- a new step inside a running job on a controller (never passes job_submit.lua) ---
  {
    id: 'srun-overlap',
    note: 'srun --jobid=<running X-Spot job> --overlap runs a step inside the allocation',
    via: 'step',
    opts: ['--overlap'],
    safe: { rejected: /Plugin initialization failed/ },
  },
  {
    id: 'srun-step',
    note: 'srun --jobid=<running X-Spot job> without --overlap (a step on the free CPUs)',
    via: 'step',
    opts: [],
    safe: { rejected: /Plugin initialization failed/ },
  },
  {
    id: 'srun-pty',
    note: 'srun --jobid=<running X-Spot job> --overlap --pty (an interactive shell on the controller)',
    via: 'step',
    opts: ['--overlap', '--pty'],
    safe: { rejected: /Plugin initialization failed/ },
  },
  {
    id: 'srun-own-conf',
    note: "variant: srun with the user's own slurm.conf copy without PlugStackConfig (the client loads no plugin)",
    via: 'step',
    opts: ['--overlap'],
    env: { SLURM_CONF: '@USER_CONF@' },
    safe: { rejected: /Plugin initialization failed/ },
  },
  {
    id: 'srun-multi-task',
    note: 'variant: a step of several tasks (overcommitted) with its own environment (--export=ALL,SLURM_STEP_ID=4294967291)',
    via: 'step',
    opts: ['--overlap', '--overcommit', '-n', '2', '--export=ALL,SLURM_STEP_ID=4294967291,SLURM_STEPID=4294967291'],
    safe: { rejected: /Plugin initialization failed/ },
  },
  {
    id: 'srun-other-partition',
    note: 'a step of a job in another partition that lists a controller (the guard is per node: refused too)',
    via: 'step',
    host: ['-p', 'debug', '--mem=1G'],
    opts: ['--overlap'],
    safe: { rejected: /Plugin initialization failed/ },
  },
];

/** Grid Engine rows (queues xspot, chipspot and the site's all.q; limits 16 CPUs, 64 GB). */
export const GE_ATTACKS: readonly Attack[] = [
  // --- benign controls ---
  { id: 'control-plain', note: 'benign: a plain X-Spot job', opts: ['-q', 'xspot', '-pe', 'smp', '2'], safe: 'exorun' },
  {
    id: 'control-args',
    note: 'benign: arguments with spaces, quotes and $() stay arguments',
    opts: ['-q', 'xspot'],
    script: '#!/bin/bash\nPAYLOAD\nfor a in "$@"; do printf "ARG<%s>\\n" "$a"; done\n',
    args: ['a b', "it's", '$(id)', '`id`;id'],
    safe: 'exorun',
  },
  { id: 'control-other', note: 'benign: a job for all.q is untouched', opts: ['-q', 'all.q'], safe: 'untouched' },
  {
    id: 'control-no-queue',
    note: 'benign: no -q never lands in an X-Spot queue (FORCED xspot_job)',
    opts: [],
    safe: 'untouched',
  },
  {
    id: 'control-limit',
    note: 'benign: exactly the limits',
    opts: ['-q', 'xspot', '-pe', 'smp', '16', '-l', 'mem_free=64G'],
    safe: 'exorun',
  },
  // --- issue item 6: queue requests the JSV did not resolve ---
  { id: 'wildcard', note: "issue: -q 'xsp*'", opts: ['-q', 'xsp*'], safe: 'exorun' },
  { id: 'wildcard-any', note: "variant: -q '*' (routed to the X-Spot queues)", opts: ['-q', '*'], safe: 'exorun' },
  { id: 'wildcard-host', note: "variant: -q '*@host'", opts: ['-q', '*@@HOST@'], safe: 'exorun' },
  { id: 'soft', note: 'issue: -soft -q xspot', opts: ['-soft', '-q', 'xspot'], safe: 'exorun' },
  { id: 'soft-wildcard', note: "variant: -soft -q 'chip*'", opts: ['-soft', '-q', 'chip*'], safe: 'exorun' },
  {
    id: 'soft-under-hard',
    note: 'variant: -hard -q all.q -soft -q xspot (the hard list wins)',
    opts: ['-hard', '-q', 'all.q', '-soft', '-q', 'xspot'],
    safe: 'untouched',
  },
  {
    id: 'default-request',
    note: "issue: no -q, with -q xspot in the user's .sge_request",
    via: 'sge-request',
    opts: [],
    safe: 'exorun',
  },
  {
    id: 'forced-complex',
    note: 'variant: -l xspot_job=TRUE without -q',
    opts: ['-l', 'xspot_job=TRUE'],
    safe: 'exorun',
  },
  {
    id: 'forced-complex-other',
    note: 'variant: -q all.q -l xspot_job=TRUE',
    opts: ['-q', 'all.q', '-l', 'xspot_job=TRUE'],
    safe: { rejected: /xspot_job/ },
  },
  {
    id: 'mixed',
    note: 'multi-queue: -q xspot,all.q',
    opts: ['-q', 'xspot,all.q'],
    safe: { rejected: /mixes X-Spot and other queues/ },
  },
  {
    id: 'mixed-wildcard',
    note: "multi-queue: -q 'xsp*,all.q'",
    opts: ['-q', 'xsp*,all.q'],
    safe: { rejected: /mixes X-Spot and other queues/ },
  },
  // --- issue item 6: sizes ---
  {
    id: 'cpus-just-above',
    note: 'sizes: -pe smp 17 (limit 16)',
    opts: ['-q', 'xspot', '-pe', 'smp', '17'],
    safe: { rejected: /asks for 17 CPUs/ },
  },
  {
    id: 'cpus-far-above',
    note: 'sizes: -pe smp 100000',
    opts: ['-q', 'xspot', '-pe', 'smp', '100000'],
    safe: { rejected: /asks for 100000 CPUs/ },
  },
  {
    id: 'mem-just-above',
    note: 'sizes: mem_free=65G (limit 64)',
    opts: ['-q', 'xspot', '-l', 'mem_free=65G'],
    safe: { rejected: /asks for 65 GB/ },
  },
  {
    id: 'mem-far-above',
    note: 'sizes: mem_free=1000000G',
    opts: ['-q', 'xspot', '-l', 'h_vmem=1000000G'],
    safe: { rejected: /GB of memory/ },
  },
  {
    id: 'xspot-vars-override',
    note: 'issue: XSPOT_CPUS=512 set by the user reached exorun',
    opts: ['-q', 'xspot', '-v', 'XSPOT_CPUS=512,XSPOT_MEM_GB=4096'],
    safe: 'exorun',
  },
  {
    id: 'xspot-binary-override',
    note: 'variant: -v XSPOT_BINARY=y on a script job',
    opts: ['-q', 'xspot', '-v', 'XSPOT_BINARY=y'],
    safe: 'exorun',
  },
  {
    id: 'image-not-approved',
    note: 'XSPOT_IMAGE outside the approved list',
    opts: ['-q', 'xspot', '-v', 'XSPOT_IMAGE=attacker/root'],
    safe: { rejected: /not an approved image/ },
  },
  // --- issue item 2: the starter honoured the job environment ---
  {
    id: 'bash-env',
    note: 'issue: BASH_ENV in the job environment',
    opts: ['-q', 'xspot', '-v', 'BASH_ENV=@PAYLOAD_FILE@'],
    safe: 'exorun',
  },
  { id: 'env-env', note: 'variant: ENV', opts: ['-q', 'xspot', '-v', 'ENV=@PAYLOAD_FILE@'], safe: 'exorun' },
  {
    id: 'path-override',
    note: "issue: mkdir/mktemp/chmod through the user's PATH",
    opts: ['-q', 'xspot', '-v', 'PATH=@FAKE_BIN@:/usr/bin:/bin'],
    safe: 'exorun',
  },
  {
    id: 'exported-function',
    note: 'variant: an exported bash function named mkdir (-V)',
    opts: ['-q', 'xspot', '-V'],
    env: { 'BASH_FUNC_mkdir%%': '() { PAYLOAD; /bin/mkdir "$@"; }' },
    safe: 'exorun',
  },
  {
    id: 'home-override',
    note: '-v HOME (the starter reads it)',
    opts: ['-q', 'xspot', '-v', 'HOME=/tmp'],
    safe: 'exorun',
  },
  {
    id: 'job-id-override',
    note: '-v JOB_ID/SGE_TASK_ID (the starter reads them)',
    opts: ['-q', 'xspot', '-v', 'JOB_ID=../../x,SGE_TASK_ID=../y'],
    safe: 'exorun',
  },
  {
    id: 'ld-preload',
    note: 'variant: LD_PRELOAD',
    opts: ['-q', 'xspot', '-v', 'LD_PRELOAD=@FAKE_BIN@/x.so'],
    safe: { rejected: /sets LD_PRELOAD/ },
  },
  {
    id: 'ld-library-path',
    note: 'variant: LD_LIBRARY_PATH through -V',
    opts: ['-q', 'xspot', '-V'],
    env: { LD_LIBRARY_PATH: '@FAKE_BIN@' },
    safe: { rejected: /LD_LIBRARY_PATH/ },
  },
  {
    id: 'gconv-path',
    note: 'variant: GCONV_PATH',
    opts: ['-q', 'xspot', '-v', 'GCONV_PATH=@FAKE_BIN@'],
    safe: { rejected: /sets GCONV_PATH/ },
  },
  {
    id: 'crlf-script',
    note: 'variant: a CRLF script',
    opts: ['-q', 'xspot'],
    script: '#!/bin/bash\r\nPAYLOAD\r\n',
    safe: 'never-native',
  },
  // --- other ways in ---
  {
    id: 'qrsh',
    note: 'qrsh -q xspot (interactive: the X-Spot queues are BATCH only)',
    via: 'qrsh',
    opts: ['-q', 'xspot'],
    safe: { rejected: /./ },
  },
  {
    id: 'qrsh-complex',
    note: 'qrsh -l xspot_job=TRUE',
    via: 'qrsh',
    opts: ['-l', 'xspot_job=TRUE'],
    safe: { rejected: /./ },
  },
  {
    id: 'qalter-into-xspot',
    note: 'qalter moving a held all.q job into xspot with the complex and XSPOT_CPUS=512',
    via: 'qalter',
    opts: ['-q', 'xspot', '-l', 'xspot_job=TRUE', '-v', 'XSPOT_CPUS=512,XSPOT_MEM_GB=1,XSPOT_IMAGE=docker-base'],
    safe: 'never-native',
  },
  {
    id: 'qalter-within-limits',
    note: 'qalter into xspot with sizes within the limits',
    via: 'qalter',
    opts: ['-q', 'xspot', '-l', 'xspot_job=TRUE', '-v', 'XSPOT_CPUS=4,XSPOT_MEM_GB=2,XSPOT_IMAGE=docker-base'],
    safe: 'never-native',
  },
];

/** An LSF row: the job as LSF hands it to esub.xspot (or to the bsub wrapper, or straight to the queue's JOB_STARTER). */
export interface LsfAttack {
  readonly id: string;
  readonly note: string;
  /** esub: the parameter file contract; bsub: the wrapper with a recording bsub; starter: a job that skipped the esub. */
  readonly via: 'esub' | 'bsub' | 'starter';
  /** Default xspot. */
  readonly queue?: string;
  /** The command line (@EXORUN@ is the configured exorun, PAYLOAD records where it ran). */
  readonly command?: string;
  readonly cpus?: number;
  readonly mem?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly safe: Safe;
}

export const LSF_ATTACKS: readonly LsfAttack[] = [
  // --- benign controls ---
  { id: 'control-plain', note: 'benign: a plain X-Spot job', via: 'esub', command: 'PAYLOAD', cpus: 2, safe: 'exorun' },
  {
    id: 'control-other',
    note: 'benign: a job for another queue is untouched',
    via: 'esub',
    queue: 'normal',
    command: 'PAYLOAD',
    safe: 'untouched',
  },
  {
    id: 'control-limit',
    note: 'benign: exactly the limits',
    via: 'esub',
    command: 'PAYLOAD',
    cpus: 16,
    mem: '64G',
    safe: 'exorun',
  },
  // --- issue item 5: the esub passed exorun commands through ---
  {
    id: 'exorun-prefix',
    note: 'issue: exorun run ... -- true; curl ... was passed through and curl ran natively',
    via: 'esub',
    command: '@EXORUN@ run -c 1 -m 1 -i docker-base -- true; PAYLOAD',
    safe: 'exorun',
  },
  {
    id: 'exorun-prefix-oversize',
    note: 'variant: an exorun command asking for 512 CPUs itself',
    via: 'esub',
    command: '@EXORUN@ run -c 512 -m 4096 -i docker-base -- true && PAYLOAD',
    safe: 'exorun',
  },
  {
    id: 'pipe-semicolon',
    note: 'issue: cat d | sort; id',
    via: 'esub',
    command: 'cat /etc/hostname | sort; PAYLOAD',
    safe: 'exorun',
  },
  { id: 'command-substitution', note: 'variant: $(...)', via: 'esub', command: 'echo $(PAYLOAD)', safe: 'exorun' },
  { id: 'backticks', note: 'variant: backticks', via: 'esub', command: 'echo `PAYLOAD`', safe: 'exorun' },
  {
    id: 'quote-breakout',
    note: "variant: a quote that tries to close the esub's quoting",
    via: 'esub',
    command: "'\\''; PAYLOAD #",
    safe: 'never-native',
  },
  {
    id: 'newline',
    note: 'variant: a newline in the command line (the parameter file carries it as is; the job may fail, never natively)',
    via: 'esub',
    command: 'true\nPAYLOAD',
    safe: 'never-native',
  },
  {
    id: 'background',
    note: 'variant: & and a redirect',
    via: 'esub',
    command: 'true >/dev/null & PAYLOAD',
    safe: 'exorun',
  },
  {
    id: 'xspot-vars',
    note: 'XSPOT_CPUS in the submit environment is ignored',
    via: 'esub',
    command: 'PAYLOAD',
    env: { XSPOT_CPUS: '512' },
    safe: 'exorun',
  },
  // --- sizes, queues ---
  {
    id: 'mixed',
    note: 'multi-queue: -q "xspot normal"',
    via: 'esub',
    queue: 'xspot normal',
    command: 'PAYLOAD',
    safe: { rejected: /mixes X-Spot and other queues/ },
  },
  {
    id: 'cpus-just-above',
    note: 'sizes: -n 17 (limit 16)',
    via: 'esub',
    command: 'PAYLOAD',
    cpus: 17,
    safe: { rejected: /asks for 17 CPUs/ },
  },
  {
    id: 'cpus-far-above',
    note: 'sizes: -n 100000',
    via: 'esub',
    command: 'PAYLOAD',
    cpus: 100000,
    safe: { rejected: /asks for 100000 CPUs/ },
  },
  {
    id: 'mem-just-above',
    note: 'sizes: rusage[mem=65G]',
    via: 'esub',
    command: 'PAYLOAD',
    mem: '65G',
    safe: { rejected: /asks for 65 GB/ },
  },
  {
    id: 'mem-far-above',
    note: 'sizes: rusage[mem=1000000G]',
    via: 'esub',
    command: 'PAYLOAD',
    mem: '1000000G',
    safe: { rejected: /GB of memory/ },
  },
  {
    id: 'image-not-approved',
    note: 'XSPOT_IMAGE outside the approved list',
    via: 'esub',
    command: 'PAYLOAD',
    env: { XSPOT_IMAGE: 'attacker/root' },
    safe: { rejected: /not an approved image/ },
  },
  {
    id: 'bmod-queue-only',
    note: 'bmod -q xspot (no command line in the parameter file)',
    via: 'esub',
    command: undefined,
    safe: { rejected: /LSB_SUB_COMMANDNAME/ },
  },
  // --- the bsub wrapper ---
  {
    id: 'bsub-pipe-semicolon',
    note: 'issue: bsub -q xspot "cat d | sort; id" through the wrapper',
    via: 'bsub',
    command: 'cat /etc/hostname | sort; PAYLOAD',
    safe: 'exorun',
  },
  {
    id: 'bsub-exorun-prefix',
    note: 'variant: an exorun command through the wrapper',
    via: 'bsub',
    command: '@EXORUN@ run -c 1 -m 1 -i docker-base -- true; PAYLOAD',
    safe: 'exorun',
  },
  // --- the queue's JOB_STARTER, for a job that did not pass the esub ---
  {
    id: 'starter-bare',
    note: 'JOB_STARTER: a command that is not exorun',
    via: 'starter',
    command: 'PAYLOAD',
    safe: { rejected: /not an exorun command/ },
  },
  {
    id: 'starter-oversize',
    note: 'JOB_STARTER: exorun with 512 CPUs',
    via: 'starter',
    command: '@EXORUN@ run -c 512 -m 1 -i docker-base -- PAYLOAD',
    safe: { rejected: /-c 512/ },
  },
  {
    id: 'starter-bad-image',
    note: 'JOB_STARTER: an image not approved',
    via: 'starter',
    command: '@EXORUN@ run -c 1 -m 1 -i evil -- PAYLOAD',
    safe: { rejected: /image evil/ },
  },
  {
    id: 'starter-other-exorun',
    note: 'JOB_STARTER: another program called exorun',
    via: 'starter',
    command: '/tmp/exorun run -c 1 -m 1 -i docker-base -- PAYLOAD',
    safe: { rejected: /not an exorun command/ },
  },
];
