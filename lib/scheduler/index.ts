/** Scheduler hooks: settings, renderer and the bundle the controller runtime publishes. */
import type { XspotConfig } from '../config/resolve';
import { schedulerSettingsFromConfig } from './from-config';
import { renderSchedulerFiles } from './render';
import type { RenderedFiles } from './types';

export { largestWorker, schedulerSettingsFromConfig } from './from-config';
export { renderSchedulerFiles, validateSchedulerSettings, writeRenderedFiles } from './render';
export * from './types';

/**
 * The files published under SCRIPT_DEPLOY_DIR/latest/tools/sched-wrapper/ for the configured
 * scheduler (none for scheduler.type 'none'), by relative path.
 */
export function schedulerBundle(cfg: XspotConfig): RenderedFiles {
  return renderSchedulerFiles(schedulerSettingsFromConfig(cfg));
}
