/**
 * The library API: everything the CLI does is available without it. `emulate(config)` runs one
 * emulation and returns every figure of the report (`EmulateResult`; times emulated);
 * `compare(base, vary)` runs variants side by side; `writeRunOutputs` writes the files of
 * `run`'s options (JSON, cperf's log directory, homa_metrics snapshots, plots, HTML, time traces
and the Perfetto trace: give the config `ttEvents` > 0 to keep the rings). The JSON
 * report's shape is documented in docs/json-schema.md (`SCHEMA_VERSION`).
 */
export { resolveConfig, defaultConfig, type EmuConfig } from './config/config.js';
export { OPTIONS, type OptionSpec } from './config/options.js';
export { UserError, ConfigError } from './config/errors.js';
export { checkOutputPath, type OutputKind } from './config/output-path.js';
export { runWorld } from './cluster/worlds.js';
export type { RawRun, RunOptions } from './run/orchestrator.js';
export { selftest, type SelftestResult } from './cluster/selftest.js';
export { emulate, measureBaseRttUs, jsonReport, SCHEMA_VERSION, type EmulateResult } from './cluster/emulate.js';
export {
  compare, compareVariants, compareRows, parseVary, runFigures,
  type CompareResult, type CompareRunsResult, type FigureStats, type Variant,
} from './cluster/compare.js';
export { writeRunOutputs, writeCompareData, writeVisuals, type OutputOptions } from './cluster/outputs.js';
export type { Digest, DigestBucket, ShortMessages } from './metrics/digest.js';
export type { CoreRow, FidelityReport } from './metrics/cores.js';
export type { LockRow } from './metrics/locks.js';
export type { Percentiles } from './metrics/histo.js';
export { formatHomaMetrics, hostMetricsInputs } from './metrics/homa-metrics.js';
export { allPlots, renderSvg, type Plot, type PlotVariant } from './metrics/plots.js';
export { chromeTraceOf, slowestShortRpc, timetraceFiles, type TimetraceData, type TraceWindow } from './metrics/trace-files.js';
export { checkChromeTrace, type ChromeTrace } from './metrics/chrome-trace.js';
