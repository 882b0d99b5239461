import { describe, expect, it } from 'vitest';
import { compareRows, compareVariants, parseVary } from '../../src/cluster/compare.js';

describe('parseVary', () => {
  it('builds one variant per value, and the cartesian product of several --vary', () => {
    expect(parseVary(['max-gro-skbs=5,20']).map((v) => v.partial)).toEqual([{ maxGroSkbs: '5' }, { maxGroSkbs: '20' }]);
    const v = parseVary(['steering=gen2,gen3', 'gbps=1,2']);
    expect(v.map((x) => x.label)).toEqual(['steering=gen2 gbps=1', 'steering=gen2 gbps=2', 'steering=gen3 gbps=1', 'steering=gen3 gbps=2']);
  });

  it.each([['nosuch=1,2'], ['max-gro-skbs'], ['max-gro-skbs='], ['cores=2']])('rejects %s', (spec) => {
    expect(() => parseVary([spec])).toThrow(/^--vary: expected/);
  });
});

describe('compareVariants', () => {
  it('runs each variant repeat times and reports median, spread and ratio to the first', async () => {
    const calls: string[] = [];
    const values: Record<string, number[]> = { 'cores=1': [10, 30, 20], 'cores=2': [40, 60, 50] };
    const r = await compareVariants({ hosts: 1 }, parseVary(['cores=1,2']), 3, async (partial, v, rep) => {
      calls.push(`${v.label}#${rep}:${JSON.stringify(partial)}`);
      return { rate: values[v.label]![rep]! };
    });
    expect(calls).toEqual([
      'cores=1#0:{"hosts":1,"cores":"1"}', 'cores=1#1:{"hosts":1,"cores":"1"}', 'cores=1#2:{"hosts":1,"cores":"1"}',
      'cores=2#0:{"hosts":1,"cores":"2"}', 'cores=2#1:{"hosts":1,"cores":"2"}', 'cores=2#2:{"hosts":1,"cores":"2"}',
    ]);
    expect(r.variants[0]!.figures['rate']).toEqual({ median: 20, min: 10, max: 30, values: [10, 30, 20] });
    expect(r.variants[1]!.figures['rate']!.median).toBe(50);
    expect(compareRows(r)).toEqual([['rate', '20.00 [10.00–30.00]', '50.00 [40.00–60.00] x2.50']]);
  });

  it('rejects a repeat count out of range', async () => {
    await expect(compareVariants({}, parseVary(['cores=1,2']), 0, async () => ({}))).rejects.toThrow(/^--repeat: expected a whole number in \[1, 1000\], got 0$/);
  });
});
