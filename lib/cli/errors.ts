/**
 * The CLI's error types live on the floor below it (lib/errors.ts), where lib/ops, lib/config and
 * lib/cost use them too; this re-export keeps command modules' imports short.
 */
export { reportError, UserError } from '../errors';
