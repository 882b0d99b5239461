/**
 * The text report of `homa-emu run`, for people: a header (config that differs from the
 * defaults, seed, fidelity), throughput, cperf's latency digest condensed to a table of length
 * buckets at every ~10% of messages, short-message RTTs, where the cores went, hand-off
 * latencies, the lock table, pacer, grants, canaries and accounting. Programs read the JSON.
 */
import Table from 'cli-table3';
import type { EmulateResult } from './emulate.js';
import type { Percentiles } from '../metrics/histo.js';
import { coreTable, fidelityText, fmtNs, fmtRate, lockTable } from '../metrics/text.js';

function us(x: number): string {
  return x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(1)} us`;
}

function pctl(p: Percentiles): string {
  return p.count === 0 ? 'no samples' : `P50 ${fmtNs(p.p50Ns)}, P99 ${fmtNs(p.p99Ns)}, P99.9 ${fmtNs(p.p999Ns)} (${fmtRate(p.count)} samples)`;
}

function plain(head: string[]): Table.Table {
  return new Table({ head, style: { head: [], border: [], compact: true } });
}

/** What an interrupted run's figures cover. */
function interruptedCover(measuredSec: number, durationMs: number): string {
  if (measuredSec <= 0) return 'stopped during warm-up, nothing was measured';
  return `the figures cover the first ${measuredSec.toFixed(2)} s of the ${(durationMs / 1000).toFixed(2)} s window`;
}

export function formatReport(r: EmulateResult): string {
  const h = r.header;
  const out: string[] = [];
  out.push(`homa-emu run: ${h.hosts} hosts x ${h.coresPerHost} cores, workload ${h.workload} at ${h.gbps} Gbps per client host, seed ${h.seed}`);
  if (h.clock === 'virtual') {
    out.push(`measured ${(h.emulatedSec * 1e3).toFixed(3)} ms emulated after ${h.warmupMs} ms emulated warm-up, in ${h.wallSec.toFixed(2)} s wall${h.interrupted ? ` — INTERRUPTED: the figures cover the first ${(h.emulatedSec * 1e3).toFixed(3)} ms of the ${h.durationMs} ms emulated window` : ''}${h.wallLimitHit ? ' — CUT SHORT by --max-wall-s' : ''}`);
  } else {
    out.push(`measured ${h.measuredSec.toFixed(2)} s wall (${h.emulatedSec.toFixed(3)} s emulated, dilation ${h.dilation}) after ${h.warmupMs} ms warm-up${h.interrupted ? ` — INTERRUPTED: ${interruptedCover(h.measuredSec, h.durationMs)}` : ''}`);
  }
  if (h.nonDefaults.length > 0) out.push(`options: ${h.nonDefaults.map(([k, v]) => `--${k} ${String(v)}`).join(' ')}`);
  if (h.stalls.length > 0) out.push(`injected stalls: ${h.stalls.map((s) => `${s.globalCore < 0 ? 'all cores' : `core h${Math.floor(s.globalCore / h.coresPerHost)}.c${s.globalCore % h.coresPerHost}`} ${s.durationMs} ms every ${s.everyMs} ms`).join('; ')}`);
  out.push(`base RTT ${h.baseRttUs.toFixed(1)} us (${h.baseRttSource}); slowdown = RTT / (base + length x 8 / link_mbps)`);
  if (h.calibration !== null) {
    const by = new Map<string, number>();
    for (const s of h.calibration.stages) by.set(s.stage, (by.get(s.stage) ?? 0) + s.ns);
    out.push(`modelled unloaded 100 B RTT ${h.calibration.totalUs.toFixed(2)} us = ${[...by].map(([k, v]) => `${k} ${(v / 1000).toFixed(2)}`).join(' + ')} (us, both directions)`);
  }
  out.push(fidelityText(r.fidelity));

  out.push('', 'Throughput:');
  out.push(`  ${fmtRate(r.throughput.rpcsPerSec)} RPCs/s, requests ${r.throughput.requestGbps.toFixed(2)} Gbps, responses ${r.throughput.responseGbps.toFixed(2)} Gbps`);
  for (const x of r.throughput.perHost) out.push(`  host ${x.host}: ${fmtRate(x.rpcsPerSec)} RPCs/s as client, ${fmtRate(x.served)} requests served, ${x.gbpsOut.toFixed(2)} Gbps out, ${x.gbpsIn.toFixed(2)} Gbps in`);
  if (r.overload.lagFraction >= 0.01) out.push(`  lag due to overload: ${(r.overload.lagFraction * 100).toFixed(1)}% (max lag ${us(r.overload.maxLagUs)})`);

  const d = r.latency.digest;
  out.push('', `Latency (${fmtRate(d.count)} RPCs; mean slowdown ${d.meanSlowdown.toFixed(2)}):`);
  out.push(`  all RPCs: RTT P50 ${us(d.rttP50Us)}, P99 ${us(d.rttP99Us)}, P99.9 ${us(d.rttP999Us)}; slowdown P50 ${d.slowdownP50.toFixed(2)}, P99 ${d.slowdownP99.toFixed(2)}, P99.9 ${d.slowdownP999.toFixed(2)}`);
  if (d.short !== null) out.push(`  short messages (<= ${d.short.maxLength} B, ${fmtRate(d.short.count)} RPCs): RTT min ${us(d.short.rttMinUs)}, P50 ${us(d.short.rttP50Us)}, P99 ${us(d.short.rttP99Us)}`);
  if (d.buckets.length > 0) {
    const t = plain(['length B', 'cum %', 'RPCs', 'RTT P50', 'RTT P99', 'RTT P99.9', 'slow P50', 'slow P99', 'slow P99.9']);
    let next = 0.1;
    for (let i = 0; i < d.buckets.length; i++) {
      const b = d.buckets[i]!;
      if (b.cumFrac + 1e-12 < next && i !== d.buckets.length - 1) continue;
      while (next <= b.cumFrac + 1e-12) next += 0.1;
      t.push([String(b.length), (b.cumFrac * 100).toFixed(1), String(b.count), us(b.rttP50Us), us(b.rttP99Us), us(b.rttP999Us),
        b.slowdownP50.toFixed(2), b.slowdownP99.toFixed(2), b.slowdownP999.toFixed(2)]);
    }
    out.push('  by message length (one row at every ~10% of messages; every bucket in --data/--json):');
    out.push(t.toString());
  }

  out.push('', 'Per-core time (% of the measured window; max gap in emulated us):');
  out.push(coreTable(r.cores));
  out.push(`busiest core: ${r.busiest}`);

  out.push('', 'Hand-off latency:');
  out.push(`  GRO -> SoftIRQ: ${pctl(r.handoff.groToSoftirq)}`);
  out.push(`  SoftIRQ -> app: ${pctl(r.handoff.softirqToApp)}`);

  out.push('', 'Locks (emulated time, rates per emulated second; wait % core: 100 = one core spent waiting, as metrics.py counts):');
  out.push(lockTable(r.locks.filter((l) => l.acquisitions > 0)));

  const p = r.pacer;
  out.push('', `Pacer (${p.policy}, throttle insert ${p.throttleInsert}): ${fmtRate(p.pacerPackets)} DATA packets sent by the pacer, ${fmtRate(p.otherDataPackets)} by other threads (${(p.pacerShare * 100).toFixed(1)}% paced), ${fmtRate(p.helpPackets)} by GRO-side helpers; throttle list: mean length ${p.throttledMean.toFixed(2)}, max ${p.throttledMax}, non-empty ${(p.nicBacklogShare * 100).toFixed(1)}% of the time, ${fmtRate(p.throttleListAdds)} adds, ${p.checksPerAdd.toFixed(1)} checks per add; ${fmtRate(p.nicThrottled)} sends refused by the NIC backlog estimate`);
  const gr = r.gro;
  out.push(`GRO/SoftIRQ (steering ${gr.steering}): ${fmtRate(gr.groBatches)} GRO batches, ${gr.packetsPerBatch.toFixed(1)} packets per batch, bypass ${fmtRate(gr.dataBypasses)} DATA / ${fmtRate(gr.grantBypasses)} GRANT; Gen2 rotations ${fmtRate(gr.gen2Rotations)}, Gen3 hand-offs ${fmtRate(gr.gen3Handoffs)} (${fmtRate(gr.gen3AltHandoffs)} not the first candidate)`);
  const th = r.threads;
  const waits = th.waitNone + th.waitFast + th.waitBlock;
  const wpct = (x: number): string => (waits > 0 ? `${((100 * x) / waits).toFixed(1)}%` : '-');
  out.push(`Threads (thread choice ${th.threadChoice}, wait mode ${th.waitMode}): messages ready at once ${wpct(th.waitNone)}, arrived while polling ${wpct(th.waitFast)}, after blocking ${wpct(th.waitBlock)}; ${fmtRate(th.handoffsThreadWaiting)} hand-offs to waiting threads (${fmtRate(th.handoffsAltThread)} not the first), ${fmtRate(th.readyListAdds)} to the ready list; wake-up placement ${th.placement}: ${fmtRate(th.wakeupMigrations)} threads woken on another core`);
  const g = r.grants;
  out.push(`Grants: ${fmtRate(g.grantsPerSec)}/s, ${fmtRate(g.needyGrants)} needy, ${fmtRate(g.fifoGrants)} FIFO (${fmtRate(g.fifoGrantBytes)} B), ${fmtRate(g.grantChecks)} grant checks`);
  const can = Object.entries(r.canaries);
  out.push(`Canaries: ${can.length === 0 ? 'none' : can.map(([k, v]) => `${k} ${fmtRate(v)}`).join(', ')}`);
  const a = r.accounting;
  out.push(`Accounting: packets sent ${a.sent} = received ${a.received} + dropped ${a.dropped}: ${a.networkBalanced ? 'ok' : 'NOT BALANCED'}; payload mismatches ${a.mismatches}; slots unaccounted ${Object.values(a.leaks).reduce((x, y) => x + Math.abs(y), 0)}`);
  const rp = r.rpcs;
  const rpBalance = rp.sent - rp.completed - rp.mismatched - rp.aborted - (rp.outstanding - rp.outstandingStart);
  out.push(`RPCs of the window: outstanding at its start ${rp.outstandingStart} + sent ${rp.sent} - completed ${rp.completed} - mismatched ${rp.mismatched} - aborted ${rp.aborted} = outstanding at its end ${rp.outstanding}: ${rpBalance === 0 ? 'ok' : `OFF BY ${-rpBalance}`}${rp.refused > 0 ? `; ${rp.refused} sends refused at once` : ''}`);
  // Fidelity warnings were printed with the header; the rest close the report.
  for (const w of r.warnings) if (!r.fidelity.warnings.includes(w.message)) out.push(`WARNING: ${w.message}`);
  return out.join('\n');
}
