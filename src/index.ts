/**
 * The library API: everything the CLI does is available without it.
 */
export { resolveConfig, defaultConfig, type EmuConfig } from './config/config.js';
export { OPTIONS, type OptionSpec } from './config/options.js';
export { UserError, ConfigError } from './config/errors.js';
export { checkOutputPath, type OutputKind } from './config/output-path.js';
export { runWorld, type RawRun, type RunOptions } from './run/orchestrator.js';
export { selftest, type SelftestResult } from './run/selftest.js';
