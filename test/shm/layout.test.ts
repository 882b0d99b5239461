import { describe, expect, it } from 'vitest';
import { CACHE_LINE_BYTES, LayoutBuilder, allocate, column, mapLayout, packLayout, subLayout, unpackLayout } from '../../src/shm/layout.js';

describe('LayoutBuilder', () => {
  it('starts every column on a fresh 64-byte line', () => {
    const d = new LayoutBuilder().add('a', 'u8', 3).add('b', 'f64', 10).add('c', 'i32', 1).build();
    expect(d.columns['a']).toEqual({ type: 'u8', byteOffset: 0, length: 3 });
    expect(d.columns['b']).toEqual({ type: 'f64', byteOffset: 64, length: 10 });
    expect(d.columns['c']).toEqual({ type: 'i32', byteOffset: 192, length: 1 }); // 64 + 80 -> 192
    expect(d.byteLength).toBe(256);
  });

  it('rejects duplicate names and bad lengths', () => {
    expect(() => new LayoutBuilder().add('a', 'i32', 1).add('a', 'i32', 1)).toThrow(/duplicate column 'a'/);
    expect(() => new LayoutBuilder().add('a', 'i32', 0)).toThrow(/length >= 1, got 0/);
    expect(() => new LayoutBuilder().add('a', 'i32', 1.5)).toThrow(/got 1.5/);
  });

  it('an empty layout still occupies one line', () => {
    expect(new LayoutBuilder().build().byteLength).toBe(CACHE_LINE_BYTES);
  });

  it('nests layouts with addAll and maps them back with subLayout (absolute offsets)', () => {
    const inner = new LayoutBuilder().add('x', 'i32', 4).add('y', 'u8', 1).build(); // 128 bytes
    const d = new LayoutBuilder().add('head', 'u8', 1).addAll('p', inner).addAll('q', inner).add('tail', 'i16', 2).build();
    expect(d.columns['p.x']!.byteOffset).toBe(64);
    expect(d.columns['p.y']!.byteOffset).toBe(128);
    expect(d.columns['q.x']!.byteOffset).toBe(192);
    expect(d.columns['tail']!.byteOffset).toBe(320);
    const q = subLayout(d, 'q');
    expect(Object.keys(q.columns).sort()).toEqual(['x', 'y']);
    expect(q.columns['x']!.byteOffset).toBe(192);
    expect(() => subLayout(d, 'r')).toThrow(/no columns under 'r'/);
    expect(() => new LayoutBuilder().addAll('p', inner).addAll('p', inner)).toThrow(/duplicate column 'p.x'/);
    // Writes through the nested view land where the outer layout says.
    const sab = allocate(d);
    column(sab, q, 'x', 'i32')[2] = 42;
    expect(new Int32Array(sab, 192, 4)[2]).toBe(42);
    expect(column(sab, d, 'p.x', 'i32')[2]).toBe(0);
  });

  it('column and mapLayout check names, types and buffer size', () => {
    const d = new LayoutBuilder().add('a', 'f32', 2).add('b', 'u16', 3).build();
    const sab = allocate(d);
    expect(() => column(sab, d, 'z', 'i32')).toThrow(/no column 'z'/);
    expect(() => column(sab, d, 'a', 'i32')).toThrow(/'a' is f32, not i32/);
    const m = mapLayout(sab, d);
    expect(m['a']).toBeInstanceOf(Float32Array);
    expect(m['b']).toBeInstanceOf(Uint16Array);
    expect(m['b']!.length).toBe(3);
    expect(() => mapLayout(new SharedArrayBuffer(64), d)).toThrow(/smaller than the layout's 128/);
  });

  it('packs a layout for the trip to a worker and unpacks the same columns (names that are Object.prototype keys too)', () => {
    const inner = new LayoutBuilder().add('head', 'i32', 16).add('cells', 'f64', 8).build();
    const b = new LayoutBuilder().add('toString', 'u8', 3).add('constructor', 'i16', 5);
    for (let i = 0; i < 1500; i++) b.addAll(`ring.${i}`, inner);
    const d = b.build();
    const back = unpackLayout(structuredClone(packLayout(d)));
    expect(back.byteLength).toBe(d.byteLength);
    expect(Object.keys(back.columns)).toEqual(Object.keys(d.columns));
    for (const [n, c] of Object.entries(d.columns)) expect(back.columns[n]).toEqual(c);
    expect(subLayout(back, 'ring.1499').columns['cells']).toEqual(d.columns['ring.1499.cells']);
    expect(subLayout(back, 'ring').columns['7.head']).toEqual(d.columns['ring.7.head']);
    expect(() => subLayout(back, 'ring.1500')).toThrow(/no columns under 'ring.1500'/);
    const sab = allocate(back);
    expect(column(sab, back, 'constructor', 'i16').length).toBe(5);
  });
});
