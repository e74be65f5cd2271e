#!/usr/bin/python3
"""sub_wrapper: X-Spot wrapper installed in place of sbatch (Slurm), qsub (Grid Engine) or bsub (LSF).

Usage: exactly as the command it replaces (sbatch ... / bsub ...); the original command is
CONFIG["real_submit"] (e.g. sbatch.orig). A job for any other queue/partition is handed to the
original command with its arguments and stdin unchanged. A job for an X-Spot queue is rewritten:

  Slurm: the batch script (file, stdin or --wrap) is embedded in a launcher script that is fed
    to sbatch on stdin, keeping the script's #SBATCH lines and its arguments; fractional sizes
    (--mem=2.5G) become whole MB. cli_filter.lua then sets the controller-side resources and
    hands the request to the launcher in XSPOT_CPUS/XSPOT_MEM_GB/XSPOT_IMAGE; the launcher runs
    exorun run -c <cpus> -m <GB> -i <image> -- <saved script> <arguments>
  LSF (the guide's bsub wrapper): -n N becomes the controller CPUs, rusage mem the controller
    MB, and the command becomes exorun run -c N -m <GB> -i <image> -- /bin/sh -c '<command line>'
    (the words bsub would join, quoted as one argument, so sh parses them inside exorun).
    A script read from stdin has its #BSUB lines applied and is saved to the X-Spot script
    directory first.

  Grid Engine (the guide's qsub replacement): the job is handed to the original qsub, whose JSV
    (jsv_xspot) rewrites X-Spot jobs; the wrapper adds the in-container path below.

Inside an X-Spot container (controller_ip set: XSPOT_CONTROLLER_IP, put there by the launcher
with this job's submit key) the submission is not made here: it is forwarded, arguments and
stdin, over ssh to the controller that runs the job, whose sshd runs it as the same user with
this wrapper there (docs/security.md, "Submissions from inside containers"). The submit
directory and the script must be on storage the controller mounts too.

Diagnostics, as in the guide's sample output, go to stderr: `controller_ip = <address|None>`,
`NO stdin` (or the size of the script read from stdin), `NO stdin(sub_cmd)` (or the size fed
to the original command), and on the ssh path the forwarded command between
`*** BEGIN ssh_stdin` and `***  END  ssh_stdin`, then `NO stdin(ssh)` or the size forwarded.

Bad requests are refused with a message and exit status 1. Python 3.6+, standard library only.
"""

import base64
import os
import pwd
import re
import shlex
import subprocess
import sys
import tempfile

# BEGIN CONFIGURATION (rendered by xspot-cdk scheduler render)
CONFIG = {
    "scheduler": "slurm",
    "queues": ["xspot"],
    "image": "docker-base",
    "approved_images": ["docker-base"],
    "exorun": "/usr/bin/exorun",
    "controller_cpus": 1,
    "controller_memory_mb": 50,
    "default_cpus": 1,
    "default_memory_gb": 1,
    "max_cpus": 96,
    "max_memory_gb": 768,
    "largest_worker": "the largest configured worker",
    "script_dir": "${HOME}/.xspot/jobs",
    "real_submit": "/usr/bin/sbatch.orig",
    "submit_helper": "/usr/libexec/xspot-cdk/scheduler/slurm/xspot_submit",
}
# END CONFIGURATION

KB_PER_UNIT = {"K": 1, "M": 1024, "G": 1048576, "T": 1073741824}
SIZE = re.compile(r"^([0-9]{1,12})(?:\.([0-9]{1,6}))?([KMGT]B?)?$", re.IGNORECASE)
LAUNCHER_MARK = "# xspot-launcher"

# sbatch options that take a value (as a separate argument when not written --opt=value).
SBATCH_SHORT_ARG = set("ABCDFGJLMNSabcdeimnopqtwx")
SBATCH_SHORT_FLAG = set("HIOQVWhksv")
SBATCH_LONG_ARG = set("""
account acctg-freq array batch bb bbf begin chdir cluster-constraint clusters comment constraint
container core-spec cores-per-socket cpu-freq cpus-per-gpu cpus-per-task deadline delay-boot
dependency distribution error exclude export export-file extra-node-info gid gpu-bind gpu-freq
gpus gpus-per-node gpus-per-socket gpus-per-task gres gres-flags hint input job-name
kill-on-invalid-dep licenses mail-type mail-user mcs-label mem mem-bind mem-per-cpu mem-per-gpu
mincpus network nodefile nodelist nodes ntasks ntasks-per-core ntasks-per-gpu ntasks-per-node
ntasks-per-socket open-mode output partition power prefer priority profile qos reservation
signal sockets-per-node switches thread-spec threads-per-core time time-min tmp tres-per-task
uid wckey wrap
""".split())
SBATCH_LONG_FLAG = set("""
contiguous exclusive get-user-env help hold ignore-pbs no-kill no-requeue nice overcommit
oversubscribe parsable propagate quiet reboot requeue spread-job test-only usage use-min-nodes
verbose version wait
""".split())

# bsub options that take no value; every other option takes one.
BSUB_FLAGS = set("""
-B -H -I -Ip -IS -ISp -ISs -Is -IX -K -N -Ne -r -rn -ul -x -hl -tty -Zs -h -V -ar -XF -datachk
""".split())

# qsub options that take no value, and the one that takes two (-pe NAME SLOTS); every other
# option takes one.
QSUB_FLAGS = set("-cwd -h -hard -soft -help -notify -clear -terse -verify -V".split())
QSUB_TWO = set(["-pe"])

SUBMIT_NAME = {"slurm": "sbatch", "gridengine": "qsub", "lsf": "bsub"}
SSH = "/usr/bin/ssh"
ADDRESS = re.compile(r"^[0-9A-Fa-f.:]{2,45}$")
PORT = re.compile(r"^[1-9][0-9]{0,4}$")
HOST_KEY = re.compile(r"^ssh-ed25519 [A-Za-z0-9+/]{68}={0,2}$")


class Refuse(Exception):
    """A request the user must fix; the message says how."""


def mem_to_kb(value, default_unit):
    m = SIZE.match(value.strip())
    if not m:
        return None
    whole, frac, unit = m.group(1), m.group(2), (m.group(3) or default_unit)
    factor = KB_PER_UNIT[unit[0].upper()]
    kb = int(whole) * factor
    if frac:
        den = 10 ** len(frac)
        kb += (int(frac) * factor + den - 1) // den
    return kb


def kb_to_gb(kb):
    return (kb + 1048575) // 1048576


def sh_quote(s):
    return "'" + s.replace("'", "'\\''") + "'"


def feed_stdin(data):
    """Makes fd 0 a pipe that yields `data` (a writer process is used when it exceeds a pipe)."""
    r, w = os.pipe()
    if len(data) <= 60000:
        view = memoryview(data)
        while view:
            view = view[os.write(w, view):]
        os.close(w)
    else:
        pid = os.fork()
        if pid == 0:  # double fork: the writer is not left as a child of the exec'd command
            if os.fork() == 0:
                os.close(r)
                view = memoryview(data)
                while view:
                    view = view[os.write(w, view):]
                os._exit(0)
            os._exit(0)
        os.waitpid(pid, 0)
        os.close(w)
    os.dup2(r, 0)
    os.close(r)


# ---- diagnostics (the guide's sample output; stderr, so stdout stays the scheduler's) ---------

FORWARDED = bool(os.environ.get("XSPOT_SUBMIT_FORWARDED"))
STDIN_SEEN = [False]


def diag(line):
    sys.stderr.write(line + "\n")


def read_stdin():
    """The script on stdin, reported once as the guide's `stdin` diagnostics show it."""
    data = sys.stdin.buffer.read()
    STDIN_SEEN[0] = True
    if not FORWARDED:
        diag("*** BEGIN stdin")
        diag("(%d bytes)" % len(data))
        diag("***  END  stdin")
    return data


def real_exec(argv, stdin_bytes=None, extra_env=None):
    """Replaces this process with the original submit command; never returns."""
    if not FORWARDED:
        if not STDIN_SEEN[0]:
            diag("NO stdin")
        diag("NO stdin(sub_cmd)" if stdin_bytes is None else "stdin(sub_cmd): %d bytes" % len(stdin_bytes))
    real = CONFIG["real_submit"]
    env = dict(os.environ)
    if extra_env:
        env.update(extra_env)
    sys.stdout.flush()
    sys.stderr.flush()
    if stdin_bytes is not None:
        feed_stdin(stdin_bytes)
    try:
        os.execve(real, [real] + argv, env)
    except OSError as e:
        sys.stderr.write("xspot: cannot run %s: %s\n" % (real, e.strerror))
        sys.exit(127)


def script_dir():
    return CONFIG["script_dir"].replace("${HOME}", os.path.expanduser("~"))


# ---- Slurm ------------------------------------------------------------------------------

def long_name(name):
    """The full sbatch long option `name` abbreviates (sbatch takes any unambiguous prefix)."""
    known = SBATCH_LONG_ARG | SBATCH_LONG_FLAG
    if name in known:
        return name
    matches = sorted(n for n in known if n.startswith(name))
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise Refuse("xspot: sbatch option --%s is ambiguous (%s); write the option in full"
                     % (name, ", ".join("--" + m for m in matches)))
    return name


def parse_sbatch(args):
    """[(name, value, [raw args])] for the options, and the index of the script (or None)."""
    opts, i = [], 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return opts, (i + 1 if i + 1 < len(args) else None)
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            name = long_name(name)
            if eq:
                opts.append((name, value, [a]))
            elif name in SBATCH_LONG_ARG:
                if i + 1 >= len(args):
                    raise Refuse("xspot: sbatch option --%s needs a value" % name)
                opts.append((name, args[i + 1], [a, args[i + 1]]))
                i += 1
            elif name in SBATCH_LONG_FLAG:
                opts.append((name, None, [a]))
            else:
                opts.append(("?" + name, None, [a]))
        elif a.startswith("-") and len(a) > 1:
            j, raw = 1, [a]
            while j < len(a):
                c = a[j]
                if c in SBATCH_SHORT_ARG:
                    value = a[j + 1:]
                    if not value:
                        if i + 1 >= len(args):
                            raise Refuse("xspot: sbatch option -%s needs a value" % c)
                        value = args[i + 1]
                        raw.append(value)
                        i += 1
                    opts.append((c, value, raw))
                    break
                opts.append((c if c in SBATCH_SHORT_FLAG else "?" + c, None, raw))
                j += 1
        else:
            return opts, i
        i += 1
    return opts, None


LONG_OF = {"p": "partition", "n": "ntasks", "c": "cpus-per-task"}


def opt_value(opts, name):
    value = None
    for n, v, _ in opts:
        if LONG_OF.get(n, n) == name:
            value = v
    return value


def directive_lines(script):
    """The leading #SBATCH lines of a batch script (sbatch stops at the first command)."""
    lines = []
    for line in script.split("\n")[1:]:
        stripped = line.strip()
        if stripped.startswith("#SBATCH"):
            lines.append(line)
        elif stripped == "" or stripped.startswith("#"):
            continue
        else:
            break
    return lines


def normalize_mem(name, value):
    """--mem/--mem-per-cpu values as whole MB for sbatch (2.5G -> 2560M); Refuse if not a size."""
    kb = mem_to_kb(value, "M")
    if kb is None:
        raise Refuse("xspot: --%s=%s is not a memory size; use a number with K, M, G or T, such as --%s=4G"
                     % (name, value, name))
    if kb <= 0:
        raise Refuse("xspot: --%s=%s asks for no memory; give a size such as --%s=4G" % (name, value, name))
    return "%dM" % ((kb + 1023) // 1024)


def normalize_args(opts):
    out = []
    for name, value, raw in opts:
        if name in ("mem", "mem-per-cpu") and value is not None:
            out.append("--%s=%s" % (name, normalize_mem(name, value)))
        elif name == "wrap":
            continue
        else:
            out.extend(raw)
    return out


def normalize_directive(line):
    m = re.match(r"^(\s*#SBATCH\s+)(.*)$", line)
    words = shlex.split(m.group(2), comments=False) if m else []
    opts, _ = parse_sbatch(words)
    if not any(n in ("mem", "mem-per-cpu") for n, _, _ in opts):
        return line
    return m.group(1) + " ".join(sh_quote(w) if re.search(r"[^\w@%+=:,./-]", w) else w
                                 for w in normalize_args(opts))


def slurm_launcher(directives, original, args):
    exorun = sh_quote(CONFIG["exorun"])
    lines = ["#!/bin/bash -p"] + directives + [
        LAUNCHER_MARK + " (client): written at submit time by the X-Spot sbatch wrapper.",
        "# The job's own batch script is embedded below; cli_filter.lua put the request in",
        "# XSPOT_CPUS, XSPOT_MEM_GB and XSPOT_IMAGE. This runs",
        "#   " + exorun + " run -c $XSPOT_CPUS -m $XSPOT_MEM_GB -i $XSPOT_IMAGE -- <saved script> <arguments>",
        "set -eu",
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "export PATH",
        "unset BASH_ENV ENV CDPATH GLOBIGNORE",
        'if ! [[ "${XSPOT_CPUS:-}" =~ ^[1-9][0-9]{0,5}$ && "${XSPOT_MEM_GB:-}" =~ ^[1-9][0-9]{0,6}$ && -n "${XSPOT_IMAGE:-}" ]]; then',
        '  echo "xspot: job ${SLURM_JOB_ID:-?} was not completed by cli_filter.lua (is CliFilterPlugins=lua set?)" >&2',
        "  exit 1",
        "fi",
        'if [ "$XSPOT_CPUS" -gt %d ] || [ "$XSPOT_MEM_GB" -gt %d ]; then' % (CONFIG["max_cpus"], CONFIG["max_memory_gb"]),
        '  echo "xspot: job ${SLURM_JOB_ID:-?} asks for more than %d CPUs or %d GB" >&2' % (CONFIG["max_cpus"], CONFIG["max_memory_gb"]),
        "  exit 1",
        "fi",
        "case \"$XSPOT_IMAGE\" in",
        "  " + "|".join(sh_quote(i) for i in CONFIG["approved_images"]) + ") ;;",
        '  *) echo "xspot: XSPOT_IMAGE is not an approved image" >&2; exit 1 ;;',
        "esac",
        "unset XSPOT_SBATCH_WRAPPED",
        "set -- " + " ".join(sh_quote(a) for a in args) if args else "set --",
        'HOME="$(getent passwd "$(id -u)" | cut -d: -f6)"',
        "export HOME",
        "xspot_job=job",
        '[[ "${SLURM_JOB_ID:-}" =~ ^[0-9]{1,20}$ ]] && xspot_job="$SLURM_JOB_ID"',
        'xspot_dir="' + CONFIG["script_dir"] + '"',
        "umask 077",
        'mkdir -p -- "$xspot_dir"',
        'xspot_script="$(mktemp -- "$xspot_dir/slurm-$xspot_job.XXXXXX")"',
        "trap 'rm -f \"$xspot_script\"' EXIT",
        "trap 'exit 143' TERM",
        "trap 'exit 130' INT",
        "printf '%s' " + sh_quote(original) + ' >"$xspot_script"',
        'chmod 700 "$xspot_script"',
        "set +e",
        "# the job's submit key (xspot_submit exec), so the container can submit sub-jobs",
        "if [ -x " + sh_quote(CONFIG["submit_helper"]) + " ]; then",
        "  " + sh_quote(CONFIG["submit_helper"]) + " exec -- " + exorun
        + ' run -c "$XSPOT_CPUS" -m "$XSPOT_MEM_GB" -i "$XSPOT_IMAGE" -- "$xspot_script" "$@"',
        "else",
        "  " + exorun + ' run -c "$XSPOT_CPUS" -m "$XSPOT_MEM_GB" -i "$XSPOT_IMAGE" -- "$xspot_script" "$@"',
        "fi",
        "",
    ]
    return "\n".join(lines)


def is_xspot_list(value, what):
    names = [q for q in re.split(r"[\s,]+", value or "") if q]
    xspot = [q for q in names if q in CONFIG["queues"]]
    if xspot and len(xspot) != len(names):
        raise Refuse("xspot: %s %s mixes X-Spot and other queues; submit to X-Spot queues (%s) alone"
                     % (what, value, ", ".join(CONFIG["queues"])))
    return bool(xspot)


def default_partition():
    """The cluster's default partition (scontrol next to the real sbatch); Refuse when unknown."""
    import subprocess  # only jobs that name no partition need it

    scontrol = os.path.join(os.path.dirname(CONFIG["real_submit"]), "scontrol")
    if not os.access(scontrol, os.X_OK):
        scontrol = "scontrol"
    try:
        out = subprocess.run([scontrol, "-o", "show", "partition"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, check=True, timeout=30).stdout.decode()
    except (OSError, subprocess.SubprocessError):
        raise Refuse("xspot: the job names no partition and the default partition cannot be read "
                     "(scontrol show partition failed); give -p/--partition")
    for line in out.splitlines():
        fields = dict(f.partition("=")[::2] for f in line.split())
        if fields.get("Default") == "YES":
            return fields.get("PartitionName")
    return None


def sbatch_main(argv):
    opts, script_at = parse_sbatch(argv)
    if any(n in ("help", "usage", "version", "h", "V") for n, _, _ in opts):
        real_exec(argv)
    wrap = opt_value(opts, "wrap")
    stdin_bytes = None
    script_args = []
    if wrap is not None:
        original = "#!/bin/sh\n# This script was created by sbatch --wrap.\n\n%s\n" % wrap
    elif script_at is not None:
        try:
            with open(argv[script_at], "rb") as f:
                original = f.read().decode("utf-8", "surrogateescape")
        except OSError:
            real_exec(argv)  # let sbatch report the missing file in its own words
        script_args = argv[script_at + 1:]
    else:
        stdin_bytes = read_stdin()
        original = stdin_bytes.decode("utf-8", "surrogateescape")

    directives = directive_lines(original)
    partition = opt_value(opts, "partition")
    if partition is None:
        partition = os.environ.get("SBATCH_PARTITION")
    if partition is None:
        for line in directives:
            dopts, _ = parse_sbatch(shlex.split(line.strip()[len("#SBATCH"):]))
            partition = opt_value(dopts, "partition") or partition
    if partition is None:
        partition = default_partition()
    if not is_xspot_list(partition, "--partition"):
        real_exec(argv, stdin_bytes)
    unknown = [n[1:] for n, _, _ in opts if n.startswith("?")]
    if unknown:
        raise Refuse("xspot: the X-Spot sbatch wrapper does not know option %s; write it as --name=value"
                     % ", ".join(unknown))
    new_argv = normalize_args(opts[:len(opts)])
    launcher = slurm_launcher([normalize_directive(d) for d in directives], original, script_args)
    real_exec(new_argv, launcher.encode("utf-8", "surrogateescape"), {"XSPOT_SBATCH_WRAPPED": "1"})


# ---- LSF ----------------------------------------------------------------------------------

def parse_bsub(args):
    """[(option, value or None)] and the index where the command starts (or None)."""
    opts, i = [], 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return opts, (i + 1 if i + 1 < len(args) else None)
        if not a.startswith("-") or a == "-":
            return opts, i
        if a in BSUB_FLAGS:
            opts.append((a, None))
        else:
            if i + 1 >= len(args):
                raise Refuse("xspot: bsub option %s needs a value" % a)
            opts.append((a, args[i + 1]))
            i += 1
        i += 1
    return opts, None


def bsub_directives(script):
    opts = []
    for line in script.split("\n"):
        if line.startswith("#BSUB"):
            words = shlex.split(line[len("#BSUB"):])
            dopts, _ = parse_bsub(words)
            opts.extend(dopts)
    return opts


def rusage_mems(res_req):
    found = []
    for section in re.findall(r"rusage\[([^\]]*)\]", res_req):
        found += re.findall(r"(?:^|[:,\s])mem\s*=\s*([^:,\]\s]+)", section)
    return found


def set_rusage_mem(res_req, mb):
    new_mem = "mem=%d" % mb
    def fix(section):
        body = section.group(1)
        if re.search(r"(?:^|[:,\s])mem\s*=", body):
            body = re.sub(r"((?:^|[:,\s]))mem\s*=\s*[^:,\]\s]+", lambda m: m.group(1) + new_mem, body)
        return "rusage[" + body + "]"
    return re.sub(r"rusage\[([^\]]*)\]", fix, res_req)


def bsub_request(opts):
    """(cpus, gb, image, rewritten options) for an X-Spot job; Refuse on a bad request."""
    cpus = CONFIG["default_cpus"]
    n = [v for o, v in opts if o == "-n"]
    if n:
        parts = n[-1].split(",")
        if not all(re.match(r"^-?[0-9]+$", p) for p in parts):
            raise Refuse("xspot: -n %s is not a CPU count; give a whole number such as -n 4" % n[-1])
        if len(parts) > 1 and int(parts[0]) != int(parts[1]):
            raise Refuse("xspot: -n %s is a range; ask for a fixed number of CPUs such as -n %s" % (n[-1], parts[1]))
        cpus = int(parts[0])
    if cpus <= 0:
        raise Refuse("xspot: -n %d asks for no CPUs; ask for 1 or more" % cpus)
    kbs = []
    for o, v in opts:
        if o == "-R":
            for text in rusage_mems(v):
                kb = mem_to_kb(text, "M")
                if kb is None:
                    raise Refuse("xspot: -R rusage[mem=%s] is not a memory size; use a number with an optional "
                                 "K, M, G or T unit (no unit = MB), such as rusage[mem=4G]" % text)
                if kb <= 0:
                    raise Refuse("xspot: -R rusage[mem=%s] asks for no memory; ask for more than 0" % text)
                kbs.append(kb)
    gb = kb_to_gb(max(kbs)) if kbs else CONFIG["default_memory_gb"]
    image = os.environ.get("XSPOT_IMAGE") or CONFIG["image"]
    if image not in CONFIG["approved_images"]:
        raise Refuse("xspot: XSPOT_IMAGE=%s is not an approved image; use one of: %s"
                     % (image, ", ".join(CONFIG["approved_images"])))
    if cpus > CONFIG["max_cpus"]:
        raise Refuse("xspot: the job asks for %d CPUs but %s offers %d; ask for at most -n %d"
                     % (cpus, CONFIG["largest_worker"], CONFIG["max_cpus"], CONFIG["max_cpus"]))
    if gb > CONFIG["max_memory_gb"]:
        raise Refuse("xspot: the job asks for %d GB of memory but %s offers %d GB; ask for at most rusage[mem=%dG]"
                     % (gb, CONFIG["largest_worker"], CONFIG["max_memory_gb"], CONFIG["max_memory_gb"]))
    out, has_mem = [], False
    for o, v in opts:
        if o == "-n":
            v = str(CONFIG["controller_cpus"])
        elif o == "-R" and rusage_mems(v):
            v = set_rusage_mem(v, CONFIG["controller_memory_mb"])
            has_mem = True
        out.append((o, v))
    if not n:
        out.append(("-n", str(CONFIG["controller_cpus"])))
    if not has_mem:
        out.append(("-R", "rusage[mem=%d]" % CONFIG["controller_memory_mb"]))
    return cpus, gb, image, out


def flatten(opts):
    argv = []
    for o, v in opts:
        argv.append(o)
        if v is not None:
            argv.append(v)
    return argv


def bsub_main(argv):
    opts, cmd_at = parse_bsub(argv)
    if any(o in ("-h", "-V") for o, _ in opts):
        real_exec(argv)
    stdin_bytes = None
    command = argv[cmd_at:] if cmd_at is not None else []
    all_opts = list(opts)
    if not command:
        stdin_bytes = read_stdin()
        all_opts = bsub_directives(stdin_bytes.decode("utf-8", "surrogateescape")) + opts
    queue = [v for o, v in all_opts if o == "-q"]
    if not is_xspot_list(queue[-1] if queue else "", "-q"):
        real_exec(argv, stdin_bytes)
    cpus, gb, image, new_opts = bsub_request(all_opts)
    if not command:
        directory = script_dir()
        os.makedirs(directory, mode=0o700, exist_ok=True)
        import tempfile  # only this path needs it; keeps start-up short for the common case

        fd, saved = tempfile.mkstemp(prefix="lsf-", suffix=".sh", dir=directory)
        with os.fdopen(fd, "wb") as f:
            f.write(stdin_bytes)
        os.chmod(saved, 0o700)
        command = [sh_quote(saved)] if stdin_bytes.startswith(b"#!") else ["/bin/sh", sh_quote(saved)]
    # bsub joins its arguments with spaces into the command line that LSF runs with sh: the
    # user's part goes in as one quoted argument of /bin/sh -c, so it is parsed inside exorun.
    exorun = [CONFIG["exorun"], "run", "-c", str(cpus), "-m", str(gb), "-i", image, "--"]
    real_exec(flatten(new_opts) + exorun + ["/bin/sh", "-c", sh_quote(" ".join(command))])


# ---- Grid Engine ----------------------------------------------------------------------------

def qsub_script_at(args):
    """The index of the job script (or command, with -b y) in qsub's arguments, or None."""
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            return i + 1 if i + 1 < len(args) else None
        if not a.startswith("-") or a == "-":
            return i
        if a in QSUB_FLAGS:
            i += 1
        elif a in QSUB_TWO:
            if i + 2 >= len(args):
                raise Refuse("xspot: qsub option %s needs a name and a slot count" % a)
            i += 3
        elif a == "-binding" and i + 1 < len(args) and args[i + 1] in ("set", "env", "pe"):
            i += 3
        else:
            if i + 1 >= len(args):
                raise Refuse("xspot: qsub option %s needs a value" % a)
            i += 2
    return None


def qsub_main(argv):
    """The guide's qsub replacement: jsv_xspot rewrites X-Spot jobs inside qsub itself."""
    stdin_bytes = None
    if qsub_script_at(argv) is None and not any(a in ("-help",) for a in argv):
        stdin_bytes = read_stdin()
    real_exec(argv, stdin_bytes)


# ---- inside an X-Spot container: forward over ssh -----------------------------------------

def uses_stdin(argv):
    """Whether the submit command would read the job script from stdin."""
    kind = CONFIG["scheduler"]
    if kind == "lsf":
        opts, cmd_at = parse_bsub(argv)
        return cmd_at is None and not any(o in ("-h", "-V") for o, _ in opts)
    if kind == "gridengine":
        return qsub_script_at(argv) is None and "-help" not in argv
    opts, script_at = parse_sbatch(argv)
    if any(n in ("help", "usage", "version", "h", "V") for n, _, _ in opts):
        return False
    return script_at is None and opt_value(opts, "wrap") is None


def container_env(name, pattern, what):
    value = os.environ.get(name, "")
    if not pattern.match(value):
        raise Refuse("xspot: %s=%r is not %s; the launcher of this job sets it from the key the controller's "
                     "per-job hook minted" % (name, value, what))
    return value


def forward_main(argv, controller_ip):
    """Sends the submission to the controller; returns the remote submit command's status."""
    name = SUBMIT_NAME[CONFIG["scheduler"]]
    diag("controller_ip = %s" % controller_ip)
    if not ADDRESS.match(controller_ip):
        raise Refuse("xspot: XSPOT_CONTROLLER_IP=%r is not an IP address" % controller_ip)
    port = container_env("XSPOT_SUBMIT_PORT", PORT, "a port number")
    host_key = container_env("XSPOT_SUBMIT_HOST_KEY", HOST_KEY, "the controller's ssh-ed25519 host key")
    encoded = os.environ.get("XSPOT_SUBMIT_KEY", "")
    try:
        private = base64.b64decode(encoded.encode(), validate=True)
    except ValueError:
        private = b""
    if b"OPENSSH PRIVATE KEY" not in private:
        raise Refuse("xspot: this job has no submit key (XSPOT_SUBMIT_KEY is unset or not a key), so it cannot "
                     "submit from inside its container; the controller's per-job hook did not mint one")
    stdin_bytes = sys.stdin.buffer.read() if uses_stdin(argv) else None
    command = " ".join(shlex.quote(w) for w in [name] + list(argv))
    diag("*** BEGIN ssh_stdin")
    diag(command)
    diag("***  END  ssh_stdin")
    diag("NO stdin(ssh)" if stdin_bytes is None else "stdin(ssh): %d bytes" % len(stdin_bytes))
    user = pwd.getpwuid(os.getuid()).pw_name
    work = tempfile.mkdtemp(prefix="xspot-submit-")
    try:
        key = os.path.join(work, "id_ed25519")
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(private)
        known = os.path.join(work, "known_hosts")
        target = controller_ip if port == "22" else "[%s]:%s" % (controller_ip, port)
        with open(known, "w") as f:
            f.write("%s %s\n" % (target, host_key))
        env = dict(os.environ)
        env["XSPOT_SUBMIT_CWD"] = os.getcwd()
        ssh = [SSH, "-F", "/dev/null", "-T", "-i", key, "-o", "IdentitiesOnly=yes", "-o", "IdentityAgent=none",
               "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + known,
               "-o", "GlobalKnownHostsFile=/dev/null", "-o", "ForwardAgent=no", "-o", "ForwardX11=no",
               "-o", "ClearAllForwardings=yes", "-o", "SendEnv=XSPOT_SUBMIT_CWD", "-o", "ConnectTimeout=30",
               "-o", "LogLevel=ERROR", "-p", port, "-l", user, "--", controller_ip, command]
        sys.stdout.flush()
        sys.stderr.flush()
        if stdin_bytes is None:
            return subprocess.run(ssh, stdin=subprocess.DEVNULL, env=env).returncode
        return subprocess.run(ssh, input=stdin_bytes, env=env).returncode
    finally:
        for name in os.listdir(work):
            os.unlink(os.path.join(work, name))
        os.rmdir(work)


def main():
    try:
        controller_ip = os.environ.get("XSPOT_CONTROLLER_IP", "")
        if controller_ip and not FORWARDED:
            sys.exit(forward_main(sys.argv[1:], controller_ip))
        if not FORWARDED:
            diag("controller_ip = None")
        if CONFIG["scheduler"] == "lsf":
            bsub_main(sys.argv[1:])
        elif CONFIG["scheduler"] == "gridengine":
            qsub_main(sys.argv[1:])
        else:
            sbatch_main(sys.argv[1:])
    except Refuse as e:
        sys.stderr.write("%s\n" % e)
        sys.exit(1)
    except Exception as e:  # an internal error must not submit the job unchanged
        sys.stderr.write("xspot: the X-Spot submit wrapper failed (%s: %s); the job was not submitted. "
                         "Please tell your cluster administrator.\n" % (type(e).__name__, e))
        sys.exit(1)


if __name__ == "__main__":
    main()
