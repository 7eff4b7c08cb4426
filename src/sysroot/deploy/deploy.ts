/**
 * The deployment operations behind `ostree admin ...` (upstream 2022.7 behaviour), one module
 * per concern, gathered here for importers:
 *   init.ts           init-fs, os-init
 *   create.ts         one deployment: initialize (checkout, kernel, /etc) and finalize (merge)
 *   list.ts           the new list (retain / pending / rollback rules), the merge deployment
 *   kargs-options.ts  --karg* options
 *   admin-deploy.ts   admin deploy
 *   stage.ts          --stage, finalize-staged, boot-complete
 *   upgrade.ts        upgrade, switch, rollback
 *   edit.ts           undeploy, pin, set-origin, kargs edit-in-place, config-diff
 *   unlock.ts         unlock
 * User-visible messages go through `log` (the CLI prints them on stdout); errors are
 * OstreeError with upstream's wording where upstream has one.
 */
export type { Log } from './log.js';
export { initFs, osInit } from './init.js';
export { allocateDeployserial, deployTree, type DeployTreeOptions } from './create.js';
export { computeSimpleDeploymentList, simpleWriteDeployment, type SimpleWriteFlags } from './list.js';
export { computeKargs, type KargOptions } from './kargs-options.js';
export { adminDeploy, type AdminDeployOptions } from './admin-deploy.js';
export { stageTree, finalizeStaged, bootComplete, type StageOptions } from './stage.js';
export { upgrade, switchRef, rollback, type UpgradeOptions } from './upgrade.js';
export { undeploy, setPinned, setOrigin, kargsEditInPlace, configDiff } from './edit.js';
export { unlock, type UnlockMode } from './unlock.js';
