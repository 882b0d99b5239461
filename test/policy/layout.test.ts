import { describe, expect, it } from 'vitest';
import { gen3Layout, hostCoreLayout, kernelThreadCore, rxChannelOwners } from '../../src/policy/layout.js';
import { createOffloadState } from '../../src/policy/offload.js';
import { createSteeringPolicy } from '../../src/policy/steering.js';

describe('rxChannelOwners', () => {
  it('gives one channel per core by default and wraps extra channels', () => {
    expect(rxChannelOwners(4)).toEqual([0, 1, 2, 3]);
    expect(rxChannelOwners(4, 6)).toEqual([0, 1, 2, 3, 0, 1]);
    expect(rxChannelOwners(4, 2)).toEqual([0, 1]);
  });

  it('rejects a bad channel count, naming the option, range and value', () => {
    expect(() => rxChannelOwners(4, -1)).toThrow(expect.objectContaining({ code: 'EINVALIDOPT', message: '--channels: expected an integer 0..64 (0 = default), got -1' }));
    expect(() => rxChannelOwners(4, 65)).toThrow(/--channels/);
    expect(() => rxChannelOwners(4, 1.5)).toThrow(/--channels/);
    expect(() => rxChannelOwners(0)).toThrow(/--cores: expected an integer >= 1, got 0/);
  });
});

describe('gen3Layout', () => {
  it('builds CloudLab\'s layout for 16 cores', () => {
    const g = gen3Layout(16);
    expect(g.napiCores).toEqual([0, 2, 4, 6]);
    expect(g.softirqCandidates).toEqual([[1, 8, 9], [3, 10, 11], [5, 12, 13], [7, 14, 15]]);
    const used = [...g.napiCores, ...g.softirqCandidates.flat()].sort((a, b) => a - b);
    expect(used).toEqual([...Array(16).keys()]); // every core used once: no overlap
    expect(g.gen3SoftirqCores[4]).toEqual([5, 12, 13]);
    expect(g.gen3SoftirqCores[5]).toEqual([4]); // not a GRO core: kernel default i^1
  });

  it('builds one group on 4 cores and 2 groups on 8', () => {
    expect(gen3Layout(4)).toMatchObject({ napiCores: [0], softirqCandidates: [[1, 2, 3]] });
    expect(gen3Layout(8)).toMatchObject({ napiCores: [0, 2], softirqCandidates: [[1, 4, 5], [3, 6, 7]] });
  });

  it('gives small and odd hosts the closest layout', () => {
    expect(gen3Layout(6)).toMatchObject({ napiCores: [0], softirqCandidates: [[1, 3, 4]] });
    expect(gen3Layout(3)).toMatchObject({ napiCores: [0], softirqCandidates: [[1, 2]] });
    expect(gen3Layout(2)).toMatchObject({ napiCores: [0], softirqCandidates: [[1]] });
    expect(gen3Layout(1)).toMatchObject({ napiCores: [0], softirqCandidates: [[0]] });
  });

  it('builds the gen3-alt variant: N/2 groups with one candidate each', () => {
    expect(gen3Layout(8, 'gen3-alt')).toMatchObject({ napiCores: [0, 2, 4, 6], softirqCandidates: [[1], [3], [5], [7]] });
  });

  it('feeds initOffload so Gen3 steering uses the groups', () => {
    const g = gen3Layout(16);
    const st = createOffloadState(16, g.gen3SoftirqCores);
    st.noteAppActive(3, 1_000_000);
    expect(createSteeringPolicy('gen3').chooseSoftirqCore(2, 4, 0, 1_000_000, st, 100_000)).toBe(10);
  });
});

describe('kernelThreadCore', () => {
  it('defaults to the last core and checks a given core', () => {
    expect(kernelThreadCore('pacer-core', 8)).toBe(7);
    expect(kernelThreadCore('timer-core', 8, 0)).toBe(0);
    expect(() => kernelThreadCore('pacer-core', 8, 8)).toThrow(expect.objectContaining({ code: 'EINVALIDOPT', message: '--pacer-core: expected a core 0..7, got 8' }));
  });
});

describe('hostCoreLayout', () => {
  it('default layout: channel per core, kernel threads on the last core', () => {
    expect(hostCoreLayout({ cores: 4 })).toEqual({
      cores: 4, layout: 'default', channels: 4, channelOwners: [0, 1, 2, 3], napiCores: [0, 1, 2, 3],
      gen3SoftirqCores: [[1], [0], [3], [2]], pacerCore: 3, timerCore: 3,
    });
  });

  it('gen3 layout: one channel per group on the NAPI cores', () => {
    const l = hostCoreLayout({ cores: 16, layout: 'gen3', pacerCore: 3 });
    expect(l).toMatchObject({ channels: 4, channelOwners: [0, 2, 4, 6], napiCores: [0, 2, 4, 6], pacerCore: 3, timerCore: 15 });
    expect(l.gen3SoftirqCores[6]).toEqual([7, 14, 15]);
    expect(hostCoreLayout({ cores: 16, layout: 'gen3', channels: 6 }).channelOwners).toEqual([0, 2, 4, 6, 0, 2]);
  });

  it('rejects an unknown layout name', () => {
    expect(() => hostCoreLayout({ cores: 4, layout: 'gen4' as 'gen3' })).toThrow(expect.objectContaining({ code: 'EINVALIDOPT', message: '--core-layout: expected one of default, gen3, gen3-alt, got "gen4"' }));
  });
});
