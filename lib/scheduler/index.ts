/** Scheduler hooks: settings, renderer and the bundle the controller runtime publishes. */
import type { XspotConfig } from '../config/resolve';
import { schedulerSettingsFromConfig } from './from-config';
import { renderSchedulerFiles, withChecksums } from './render';
import type { RenderedFiles } from './types';

export { largestWorker, schedulerSettingsFromConfig } from './from-config';
export {
  renderSchedulerFiles,
  SUMS_FILE,
  validateSchedulerSettings,
  withChecksums,
  writeRenderedFiles,
} from './render';
export * from './types';

/**
 * The files of conf/sched-wrapper/ in the config bundle for the configured scheduler (none for
 * scheduler.type 'none'), by relative path, with their SHA256SUMS: the install-hooks boot step
 * installs them into the local install dir; `deploy` also publishes a copy for reading under
 * SCRIPT_DEPLOY_DIR/latest/tools/sched-wrapper/.
 */
export function schedulerBundle(cfg: XspotConfig): RenderedFiles {
  return withChecksums(renderSchedulerFiles(schedulerSettingsFromConfig(cfg)));
}
