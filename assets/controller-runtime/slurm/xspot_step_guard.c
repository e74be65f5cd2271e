/*
 * xspot_step_guard.c - a Slurm SPANK plugin for X-Spot controllers (docs/scheduler.md, "Job
 * steps on a controller"; docs/security.md).
 *
 * On a controller the only Slurm work allowed is the batch step (the launcher that job_submit.lua
 * wrote, which starts the job through exorun) and the extern step (PrologFlags=Contain). Any
 * other step - `srun --jobid=<a running X-Spot job> [--overlap] cmd`, `srun --pty bash` into the
 * allocation, an interactive step - never passes job_submit.lua and would run the user's command
 * natively on the controller. slurmstepd (root) calls slurm_spank_init before it forks the
 * step's tasks; this plugin makes it fail for every other step id, so the user's command never
 * starts. Listed as `required` in plugstack.conf: a plugin that cannot load fails every step,
 * the batch step included (fails closed).
 *
 * The step id comes from the job credential slurmctld signed; nothing the user sets (environment,
 * srun options) reaches the decision. Other contexts (srun, sbatch, slurmd, prolog) are left alone.
 *
 * Build (the runtime does this at boot against the site's own spank.h):
 *   cc -shared -fPIC -O2 -o xspot_step_guard.so xspot_step_guard.c
 */
#include <stdint.h>
#include <slurm/slurm.h>
#include <slurm/spank.h>

SPANK_PLUGIN(xspot_step_guard, 1);

int slurm_spank_init(spank_t sp, int ac, char **av)
{
	uint32_t job_id = 0, step_id = 0;
	(void) ac;
	(void) av;

	if (spank_context() != S_CTX_REMOTE)
		return ESPANK_SUCCESS;
	if (spank_get_item(sp, S_JOB_STEPID, &step_id) != ESPANK_SUCCESS) {
		slurm_error("xspot_step_guard: cannot read the step id: step refused");
		return -1;
	}
	if (step_id == SLURM_BATCH_SCRIPT || step_id == SLURM_EXTERN_CONT)
		return ESPANK_SUCCESS;
	(void) spank_get_item(sp, S_JOB_ID, &job_id);
	slurm_spank_log("xspot_step_guard: job %u: this node is an X-Spot controller and runs only the "
			"X-Spot batch step; step %u refused (srun into an X-Spot job is not allowed)",
			job_id, step_id);
	return -1;
}
