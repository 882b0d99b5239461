import { describe, expect, it } from 'vitest';
import { runVirtual } from '../../bench/virtual.js';

describe('runVirtual', () => {
  it('at a tiny scale: virtual vs wall speed, and the window trade-off beside the deterministic run', async () => {
    const r = await runVirtual({ scale: 0.01 });
    expect(r.length).toBe(2 + 4 * 4);
    expect(r[0]!.unit).toBe('RPCs/s');
    expect(r[0]!.value).toBeGreaterThan(0);
    expect(r[1]!.value).toBeGreaterThan(0);
    for (const x of r.filter((y) => y.name.includes('late items'))) expect(x.value).toBeGreaterThanOrEqual(0);
  }, 180_000);
});
