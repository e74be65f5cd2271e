--[[
cli_filter.lua: X-Spot cli_filter plugin for sbatch (CliFilterPlugins=lua), the client-side
path for sites that cannot change slurmctld. It works with the X-Spot sbatch wrapper, which
puts the batch script inside a launcher (a cli_filter cannot change the script or --wrap).

For a job to an X-Spot partition it works out the request (cpus = --ntasks x --cpus-per-task,
memory = --mem or --mem-per-cpu x cpus rounded up to whole GB, image = $XSPOT_IMAGE from the
approved list or the default), rejects bad requests with a message saying what to fix, sets
the controller-side resources, records the request in the job comment, and passes it to the
launcher through --export (XSPOT_CPUS, XSPOT_MEM_GB, XSPOT_IMAGE). A job that did not come
through the wrapper is rejected. Other partitions are not touched; an internal error rejects.

Install: next to slurm.conf on every submit host. Arguments: none (sbatch calls the
slurm_cli_* functions). Lua 5.1+.
--]]

-- BEGIN CONFIGURATION (rendered by xspot-cdk scheduler render)
local CONFIG = {
  queues = { "xspot" },
  image = "docker-base",
  approved_images = { "docker-base" },
  controller_cpus = 1,
  controller_memory_mb = 50,
  default_cpus = 1,
  default_memory_gb = 1,
  max_cpus = 96,
  max_memory_gb = 768,
  largest_worker = "the largest configured worker",
  real_submit = "/usr/bin/sbatch.orig",
}
-- END CONFIGURATION

local MB_PER = { K = 1 / 1024, M = 1, G = 1024, T = 1048576 }

local function in_list(value, list)
  for _, item in ipairs(list) do
    if item == value then
      return true
    end
  end
  return false
end

-- MB in a Slurm size (whole number, optional K/M/G/T, default M), or nil.
local function size_mb(text)
  local num, unit = string.match(text or "", "^(%d+)([KkMmGgTt]?)$")
  if num == nil then
    return nil
  end
  if unit == "" then
    unit = "M"
  end
  return tonumber(num) * MB_PER[string.upper(unit)]
end

local function count(text)
  local n = tonumber(text or "")
  if n == nil or n ~= math.floor(n) then
    return nil
  end
  return n
end

local function xspot_partition(partition)
  local xspot, other = 0, 0
  for name in string.gmatch(partition or "", "[^,]+") do
    if in_list(name, CONFIG.queues) then
      xspot = xspot + 1
    else
      other = other + 1
    end
  end
  if xspot > 0 and other > 0 then
    return nil, "xspot: --partition=" .. partition .. " mixes X-Spot and other partitions; submit to X-Spot "
      .. "partitions (" .. table.concat(CONFIG.queues, ", ") .. ") alone"
  end
  return xspot > 0
end

local function fail(msg)
  slurm.log_error("%s", msg)
  return slurm.ERROR
end

local function pre_submit(options)
  local xspot, why = xspot_partition(options["partition"])
  if xspot == nil then
    return fail(why)
  end
  if not xspot then
    return slurm.SUCCESS
  end
  if os.getenv("XSPOT_SBATCH_WRAPPED") ~= "1" then
    return fail("xspot: jobs for X-Spot partitions must be submitted with the X-Spot sbatch wrapper "
      .. "(sbatch in place of " .. CONFIG.real_submit .. ")")
  end

  local ntasks = count(options["ntasks"]) or 1
  local cpt = count(options["cpus-per-task"]) or 0
  local origin = {}
  local cpus
  if ntasks == 1 and cpt == 0 then
    cpus = CONFIG.default_cpus
  else
    cpus = ntasks * math.max(cpt, 1)
    origin[#origin + 1] = "ntasks=" .. ntasks
    if cpt > 0 then origin[#origin + 1] = "cpus-per-task=" .. cpt end
  end
  if cpus <= 0 then
    return fail(string.format("xspot: the job asks for %d CPUs; use --ntasks/--cpus-per-task of 1 or more", cpus))
  end

  local mb
  if options["mem"] ~= nil then
    mb = size_mb(options["mem"])
    if mb == nil then
      return fail("xspot: --mem=" .. options["mem"] .. " is not a memory size; use a size such as --mem=4G")
    end
    origin[#origin + 1] = "mem=" .. options["mem"]
  elseif options["mem-per-cpu"] ~= nil then
    local per = size_mb(options["mem-per-cpu"])
    if per == nil then
      return fail("xspot: --mem-per-cpu=" .. options["mem-per-cpu"] .. " is not a memory size; use a size such as 2G")
    end
    mb = per * cpus
    origin[#origin + 1] = "mem-per-cpu=" .. options["mem-per-cpu"]
  end
  local gb = CONFIG.default_memory_gb
  if mb ~= nil then
    if mb <= 0 then
      return fail("xspot: --mem=0 (all of a node's memory) has no meaning on an X-Spot partition; "
        .. "give a size such as --mem=4G")
    end
    gb = math.ceil(mb / 1024)
  end

  local image = os.getenv("XSPOT_IMAGE")
  if image == nil or image == "" then
    image = CONFIG.image
  else
    origin[#origin + 1] = "XSPOT_IMAGE=" .. image
  end
  if not in_list(image, CONFIG.approved_images) then
    return fail("xspot: XSPOT_IMAGE=" .. image .. " is not an approved image; use one of: "
      .. table.concat(CONFIG.approved_images, ", "))
  end
  if cpus > CONFIG.max_cpus then
    return fail(string.format("xspot: the job asks for %d CPUs but %s offers %d; ask for at most %d "
      .. "(--ntasks x --cpus-per-task)", cpus, CONFIG.largest_worker, CONFIG.max_cpus, CONFIG.max_cpus))
  end
  if gb > CONFIG.max_memory_gb then
    return fail(string.format("xspot: the job asks for %d GB of memory but %s offers %d GB; ask for at most "
      .. "--mem=%dG", gb, CONFIG.largest_worker, CONFIG.max_memory_gb, CONFIG.max_memory_gb))
  end

  options["ntasks"] = "1"
  options["cpus-per-task"] = tostring(CONFIG.controller_cpus)
  options["nodes"] = "1"
  if options["mem-per-cpu"] ~= nil then
    -- --mem and --mem-per-cpu exclude each other, and an option cannot be unset here.
    options["mem-per-cpu"] = tostring(math.ceil(CONFIG.controller_memory_mb / CONFIG.controller_cpus)) .. "M"
  else
    options["mem"] = tostring(CONFIG.controller_memory_mb) .. "M"
  end
  local note = string.format("xspot: exorun -c %d -m %d -i %s (requested: %s)", cpus, gb, image,
    #origin > 0 and table.concat(origin, " ") or "defaults")
  if options["comment"] ~= nil and options["comment"] ~= "" then
    note = note .. "; " .. options["comment"]
  end
  options["comment"] = note
  local vars = string.format("XSPOT_CPUS=%d,XSPOT_MEM_GB=%d,XSPOT_IMAGE=%s", cpus, gb, image)
  local export = options["export"]
  if export == nil or export == "" then
    export = "ALL"
  end
  options["export"] = export .. "," .. vars
  return slurm.SUCCESS
end

function slurm_cli_setup_defaults(options, early_pass)
  return slurm.SUCCESS
end

function slurm_cli_pre_submit(options, pack_offset)
  local ok, rc = pcall(pre_submit, options)
  if ok then
    return rc
  end
  slurm.log_error("%s", "xspot: the X-Spot cli_filter failed (" .. tostring(rc)
    .. "); the job was not submitted. Please tell your cluster administrator.")
  return slurm.ERROR
end

function slurm_cli_post_submit(offset, jobid, stepid)
  return slurm.SUCCESS
end

return slurm.SUCCESS
