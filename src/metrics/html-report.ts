/**
 * `--html FILE`: one self-contained HTML page (no script, no external resource, so it opens
 * from disk anywhere) with a summary table per run or variant and the five plots of
 * src/metrics/plots.ts inlined as SVG, each in a <figure id="plot-NAME">. Times are emulated.
 */
import type { Plot, PlotVariant } from './plots.js';

/** The figures of the summary table (a run's `EmulateResult` has them). */
export interface SummarySource {
  header: { hosts: number; coresPerHost: number; workload: string; gbps: number; baseRttUs: number; emulatedSec: number; dilation: number };
  throughput: { rpcsPerSec: number };
  latency: { digest: { rttP50Us: number; rttP99Us: number; slowdownP50: number; slowdownP99: number } };
  busiest: string | null;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function num(x: number, digits: number): string {
  return Number.isFinite(x) ? x.toFixed(digits) : '-';
}

export function htmlReport(title: string, variants: ReadonlyArray<PlotVariant & { run: SummarySource }>, plots: ReadonlyArray<{ plot: Plot; svg: string }>): string {
  const rows = variants.map((v) => {
    const r = v.run;
    const d = r.latency.digest;
    return `<tr><td>${esc(v.label)}</td><td>${r.header.hosts} x ${r.header.coresPerHost}</td><td>${esc(r.header.workload)} at ${r.header.gbps} Gbps</td>`
      + `<td>${num(r.throughput.rpcsPerSec, 0)}</td><td>${num(d.rttP50Us, 1)}</td><td>${num(d.rttP99Us, 1)}</td>`
      + `<td>${num(d.slowdownP50, 2)}</td><td>${num(d.slowdownP99, 2)}</td><td>${num(r.header.baseRttUs, 1)}</td>`
      + `<td>${esc(r.busiest ?? '-')}</td><td>${num(r.header.emulatedSec * 1000, 1)} ms (dilation ${r.header.dilation})</td></tr>`;
  });
  const figures = plots.map(({ plot, svg }) => `<figure id="plot-${esc(plot.name)}">\n<figcaption>${esc(plot.title)}</figcaption>\n${svg}\n</figure>`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
body { font-family: sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin-bottom: 2em; }
th, td { border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
figure { margin: 0 0 2.5em 0; }
figcaption { font-weight: bold; margin-bottom: 0.5em; }
</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p>Every time is emulated time (wall time divided by the dilation). Slowdown = RTT / (base RTT + length x 8 / link Mbps).</p>
<table id="summary">
<thead><tr><th>run</th><th>hosts x cores</th><th>workload</th><th>RPCs/s</th><th>RTT P50 us</th><th>RTT P99 us</th><th>slowdown P50</th><th>slowdown P99</th><th>base RTT us</th><th>busiest core</th><th>measured</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
${figures.join('\n')}
</body>
</html>
`;
}
