--[[
job_submit.lua: X-Spot job_submit plugin for slurmctld (JobSubmitPlugins=lua).

A batch job for an X-Spot partition is rewritten so that Slurm runs a small launcher on a
controller with the controller-side resources (CONFIG.controller_cpus, controller_memory_mb),
and the real request goes to

  exorun run -c <cpus> -m <GB> -i <image> -- <original script> <original arguments>

cpus come from --ntasks x --cpus-per-task, memory from --mem or --mem-per-cpu (x cpus),
rounded up to whole GB; the image from $XSPOT_IMAGE at submit time (approved list only) or
CONFIG.image. The original request is recorded in the job comment. Jobs for any other
partition are not touched. A bad request is rejected with a message saying what to fix, and
an internal error in this file rejects the job too (slurmctld lets a job through when the
Lua function raises, so everything runs under pcall).

Install: copy next to slurm.conf as job_submit.lua; slurmctld reloads it when it changes.
Arguments: none (slurmctld calls slurm_job_submit / slurm_job_modify). Lua 5.1+.
--]]

-- BEGIN CONFIGURATION (rendered by xspot-cdk scheduler render)
local CONFIG = {
  queues = { "xspot" },
  image = "docker-base",
  approved_images = { "docker-base" },
  exorun = "/usr/bin/exorun",
  controller_cpus = 1,
  controller_memory_mb = 50,
  default_cpus = 1,
  default_memory_gb = 1,
  max_cpus = 96,
  max_memory_gb = 768,
  largest_worker = "the largest configured worker",
  script_dir = "${HOME}/.xspot/jobs",
  submit_helper = "/usr/libexec/xspot-cdk/scheduler/slurm/xspot_submit",
}
-- END CONFIGURATION

local LAUNCHER_MARK = "# xspot-launcher"

local function is_set(v)
  return v ~= nil and v ~= slurm.NO_VAL and v ~= slurm.NO_VAL16 and v ~= slurm.NO_VAL64
end

local function in_list(value, list)
  for _, item in ipairs(list) do
    if item == value then
      return true
    end
  end
  return false
end

local function sh_quote(s)
  return "'" .. (string.gsub(s, "'", "'\\''")) .. "'"
end

-- The partitions a job asked for; the default partition when it named none.
local function requested_partitions(job_desc, part_list)
  local names = {}
  if job_desc.partition ~= nil and job_desc.partition ~= "" then
    for name in string.gmatch(job_desc.partition, "[^,]+") do
      names[#names + 1] = name
    end
  else
    for _, part in pairs(part_list or {}) do
      if part.flag_default == 1 then
        names[#names + 1] = part.name
      end
    end
  end
  return names
end

-- true/false, or nil plus a message when the job mixes X-Spot and other partitions.
local function wants_xspot(job_desc, part_list)
  local xspot, other = 0, 0
  local names = requested_partitions(job_desc, part_list)
  for _, name in ipairs(names) do
    if in_list(name, CONFIG.queues) then
      xspot = xspot + 1
    else
      other = other + 1
    end
  end
  if xspot > 0 and other > 0 then
    return nil, "xspot: --partition=" .. table.concat(names, ",")
      .. " mixes X-Spot and other partitions; submit to X-Spot partitions ("
      .. table.concat(CONFIG.queues, ", ") .. ") alone"
  end
  return xspot > 0
end

local function fmt_mb(mb)
  if mb % 1024 == 0 then
    return string.format("%dG", mb / 1024)
  end
  return string.format("%dM", mb)
end

-- Works out cpus, memory (GB) and image; returns a table, or nil and a message.
local function xspot_request(job_desc)
  local ntasks_set, cpt_set = is_set(job_desc.num_tasks), is_set(job_desc.cpus_per_task)
  local ntasks = ntasks_set and job_desc.num_tasks or 1
  local cpt = cpt_set and job_desc.cpus_per_task or 1
  local cpus = CONFIG.default_cpus
  local origin = {}
  if ntasks_set then origin[#origin + 1] = "ntasks=" .. ntasks end
  if cpt_set then origin[#origin + 1] = "cpus-per-task=" .. cpt end
  if ntasks_set or cpt_set then
    cpus = ntasks * cpt
  end
  if cpus <= 0 then
    return nil, string.format("xspot: the job asks for %d CPUs; use --ntasks/--cpus-per-task of 1 or more", cpus)
  end

  local mb
  local per_node, per_cpu = job_desc.min_mem_per_node, job_desc.min_mem_per_cpu
  if per_node ~= nil and is_set(per_node) then
    mb = per_node
    origin[#origin + 1] = "mem=" .. fmt_mb(per_node)
  elseif per_cpu ~= nil and is_set(per_cpu) then
    mb = per_cpu * cpus
    origin[#origin + 1] = "mem-per-cpu=" .. fmt_mb(per_cpu)
  end
  local gb = CONFIG.default_memory_gb
  if mb ~= nil then
    if mb <= 0 then
      return nil, "xspot: --mem=0 (all of a node's memory) has no meaning on an X-Spot partition; "
        .. "give a size such as --mem=4G"
    end
    gb = math.ceil(mb / 1024)
  end

  local image = CONFIG.image
  local env = job_desc.environment
  local asked = env and env.XSPOT_IMAGE
  if asked ~= nil and asked ~= "" then
    image = asked
    origin[#origin + 1] = "XSPOT_IMAGE=" .. asked
  end
  if not in_list(image, CONFIG.approved_images) then
    return nil, "xspot: XSPOT_IMAGE=" .. image .. " is not an approved image; use one of: "
      .. table.concat(CONFIG.approved_images, ", ")
  end
  if cpus > CONFIG.max_cpus then
    return nil, string.format("xspot: the job asks for %d CPUs but %s offers %d; ask for at most %d "
      .. "(--ntasks x --cpus-per-task)", cpus, CONFIG.largest_worker, CONFIG.max_cpus, CONFIG.max_cpus)
  end
  if gb > CONFIG.max_memory_gb then
    return nil, string.format("xspot: the job asks for %d GB of memory but %s offers %d GB; ask for at most "
      .. "--mem=%dG", gb, CONFIG.largest_worker, CONFIG.max_memory_gb, CONFIG.max_memory_gb)
  end
  return { cpus = cpus, gb = gb, image = image, origin = table.concat(origin, " ") }
end

-- Variables the dynamic loader and libc act on before the launcher's first line runs (glibc's
-- own list of variables it drops for setuid programs, less TMPDIR and TZDIR). bash -p cannot
-- help against them, so a job whose environment sets one is refused. (slurmctld hands the
-- environment to Lua as a lookup table that cannot be iterated, so the names are listed.)
local LOADER_VARS = {
  "LD_AUDIT", "LD_BIND_NOT", "LD_BIND_NOW", "LD_DEBUG", "LD_DEBUG_OUTPUT", "LD_DYNAMIC_WEAK",
  "LD_HWCAP_MASK", "LD_LIBRARY_PATH", "LD_ORIGIN_PATH", "LD_PRELOAD", "LD_PROFILE",
  "LD_PROFILE_OUTPUT", "LD_SHOW_AUXV", "LD_USE_LOAD_BIAS", "GCONV_PATH", "GETCONF_DIR",
  "GLIBC_TUNABLES", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "MALLOC_TRACE", "NIS_PATH", "NLSPATH",
  "RESOLV_HOST_CONF", "RES_OPTIONS",
}

-- A message when the job would run code of the user's choosing natively on the controller
-- before exorun starts, or nil.
local function unsafe_environment(job_desc)
  local env = job_desc.environment
  if env == nil then
    return nil
  end
  -- sbatch sets SLURM_GET_USER_ENV for --get-user-env and for any --export other than plain ALL
  -- (Slurm 22.05: even ALL,NAME=value), and a user can set it by hand; slurmd then runs the
  -- user's login scripts on the node, natively, before the launcher.
  if env.SLURM_GET_USER_ENV ~= nil then
    return "xspot: this job would load your login environment on the controller (--get-user-env, or an "
      .. "--export other than ALL), which X-Spot partitions do not allow; submit without --export (ALL is the "
      .. "default), with the variables set before sbatch or inside the job script"
  end
  local found = {}
  for _, name in ipairs(LOADER_VARS) do
    if env[name] ~= nil then
      found[#found + 1] = name
    end
  end
  if #found == 0 then
    return nil
  end
  return "xspot: the job environment sets " .. table.concat(found, ", ") .. ", which X-Spot partitions do not "
    .. "accept (the launcher on the controller would load code from it); unset it before submitting and set it "
    .. "in the job script instead, which runs inside the X-Spot container"
end

-- The batch script Slurm runs on the controller, as the submitting user, with the job's
-- environment. Nothing in that environment is trusted: bash -p skips BASH_ENV/ENV, imported
-- functions, SHELLOPTS and BASHOPTS; PATH is fixed before the first command; HOME comes from
-- the password database, not the environment; the job id is used only when it is a number.
-- It saves the original script where the X-Spot container can read it, then hands it and the
-- job's arguments to exorun.
local function launcher(original, req)
  local exorun = string.format("%s run -c %d -m %d -i %s", sh_quote(CONFIG.exorun), req.cpus, req.gb,
    sh_quote(req.image))
  return table.concat({
    "#!/bin/bash -p",
    LAUNCHER_MARK .. " (server): written at submit time by the X-Spot job_submit plugin.",
    "# The job's own batch script is embedded below; this runs it as",
    "#   " .. exorun .. " -- <saved script> <job arguments>",
    "set -eu",
    "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
    "export PATH",
    "unset BASH_ENV ENV CDPATH GLOBIGNORE",
    "IFS=$' \t\n'",
    'HOME="$(getent passwd "$(id -u)" | cut -d: -f6)"',
    '[ -n "$HOME" ] || { echo "xspot: no home directory for uid $(id -u)" >&2; exit 1; }',
    "export HOME",
    'xspot_job=job',
    '[[ "${SLURM_JOB_ID:-}" =~ ^[0-9]{1,20}$ ]] && xspot_job="$SLURM_JOB_ID"',
    'xspot_dir="' .. CONFIG.script_dir .. '"',
    "umask 077",
    'mkdir -p -- "$xspot_dir"',
    'xspot_script="$(mktemp -- "$xspot_dir/slurm-$xspot_job.XXXXXX")"',
    "trap 'rm -f -- \"$xspot_script\"' EXIT",
    "trap 'exit 143' TERM",
    "trap 'exit 130' INT",
    "printf '%s' " .. sh_quote(original) .. ' >"$xspot_script"',
    'chmod 700 -- "$xspot_script"',
    "set +e",
    "# the job's submit key (xspot_submit exec), so the container can submit sub-jobs",
    "if [ -x " .. sh_quote(CONFIG.submit_helper) .. " ]; then",
    "  " .. sh_quote(CONFIG.submit_helper) .. " exec -- " .. exorun .. ' -- "$xspot_script" "$@"',
    "else",
    "  " .. exorun .. ' -- "$xspot_script" "$@"',
    "fi",
    "",
  }, "\n")
end

local function xspot_job_submit(job_desc, part_list)
  local xspot, why = wants_xspot(job_desc, part_list)
  if xspot == nil then
    slurm.log_user("%s", why)
    return slurm.ERROR
  end
  if not xspot then
    return slurm.SUCCESS
  end
  local script = job_desc.script
  if script == nil then
    slurm.log_user("%s", "xspot: X-Spot partitions take batch jobs only; submit with sbatch, "
      .. "or run exorun yourself on a controller")
    return slurm.ERROR
  end
  -- Every X-Spot batch script is wrapped, whatever it contains: nothing the user writes can
  -- mark it as already wrapped (a launcher submitted by the user just runs inside exorun).
  local bad_env = unsafe_environment(job_desc)
  if bad_env ~= nil then
    slurm.log_user("%s", bad_env)
    return slurm.ERROR
  end
  local req, err = xspot_request(job_desc)
  if req == nil then
    slurm.log_user("%s", err)
    return slurm.ERROR
  end

  job_desc.script = launcher(script, req)
  job_desc.num_tasks = 1
  job_desc.cpus_per_task = CONFIG.controller_cpus
  job_desc.min_cpus = CONFIG.controller_cpus
  job_desc.pn_min_cpus = CONFIG.controller_cpus
  job_desc.min_mem_per_node = CONFIG.controller_memory_mb
  if is_set(job_desc.min_nodes) and job_desc.min_nodes > 1 then
    job_desc.min_nodes = 1
  end
  if is_set(job_desc.max_nodes) and job_desc.max_nodes > 1 then
    job_desc.max_nodes = 1
  end
  local note = string.format("xspot: exorun -c %d -m %d -i %s (requested: %s)", req.cpus, req.gb, req.image,
    req.origin ~= "" and req.origin or "defaults")
  if job_desc.comment ~= nil and job_desc.comment ~= "" then
    note = note .. "; " .. job_desc.comment
  end
  job_desc.comment = note
  slurm.log_info("xspot: job from uid %s rewritten: %s", tostring(job_desc.user_id), note)
  return slurm.SUCCESS
end

function slurm_job_submit(job_desc, part_list, submit_uid)
  local ok, rc = pcall(xspot_job_submit, job_desc, part_list, submit_uid)
  if ok then
    return rc
  end
  slurm.log_error("xspot job_submit.lua: internal error: %s", tostring(rc))
  slurm.log_user("%s", "xspot: the X-Spot submit hook failed (" .. tostring(rc)
    .. "); the job was not submitted. Please tell your cluster administrator.")
  return slurm.ERROR
end

-- Moving a pending job into an X-Spot partition would skip the rewrite: refuse it.
local function xspot_job_modify(job_desc, job_rec, part_list)
  if job_desc.partition == nil then
    return slurm.SUCCESS
  end
  local xspot = wants_xspot(job_desc, part_list)
  local was = job_rec.partition ~= nil and wants_xspot({ partition = job_rec.partition }, part_list)
  if xspot ~= false and not was then
    slurm.log_error("xspot: refused moving job %s into partition %s", tostring(job_rec.job_id), job_desc.partition)
    return slurm.ERROR
  end
  return slurm.SUCCESS
end

function slurm_job_modify(job_desc, job_rec, part_list, modify_uid)
  local ok, rc = pcall(xspot_job_modify, job_desc, job_rec, part_list)
  if ok then
    return rc
  end
  slurm.log_error("xspot job_submit.lua: internal error in job_modify: %s", tostring(rc))
  return slurm.ERROR
end

slurm.log_info("xspot job_submit.lua loaded (partitions: %s)", table.concat(CONFIG.queues, ","))
return slurm.SUCCESS
