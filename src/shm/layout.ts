/**
 * Struct-of-arrays layout of shared memory. Every piece of shared state (rings, pools, lock
 * tables, per-core counters, RPC tables) is a set of named typed columns placed at known byte
 * offsets inside one SharedArrayBuffer. The orchestrator builds a `LayoutDesc` once from the
 * validated config (a plain object, so it can be sent to workers as data), allocates the buffer, and every
 * worker maps the same columns with `mapLayout`. Columns start on 64-byte cache lines so a hot
 * atomic written by one core never shares a line with another core's data.
 */

export const CACHE_LINE_BYTES = 64;
/** Int32 elements per cache line: use as a stride to give each element its own line. */
export const I32_PER_LINE = CACHE_LINE_BYTES / 4;

export type ColumnType = 'i8' | 'u8' | 'i16' | 'u16' | 'i32' | 'u32' | 'f32' | 'f64';

export interface ColumnDesc {
  readonly type: ColumnType;
  /** Byte offset of the column inside the buffer (a multiple of 64). */
  readonly byteOffset: number;
  /** Number of elements. */
  readonly length: number;
}

/**
 * An empty record in V8's dictionary mode (a null prototype). A layout names ~300 columns for 32
 * cores and over 1,200 for 255; adding that many distinct keys to an ordinary object makes V8
 * build a hidden class per key and copy its descriptors each time (quadratic), in every worker's
 * isolate anew, which was a large share of a big cluster's start-up.
 */
export function columnRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

export interface LayoutDesc {
  readonly byteLength: number;
  readonly columns: Readonly<Record<string, ColumnDesc>>;
}

type ArrayFor<T extends ColumnType> = T extends 'i8' ? Int8Array
  : T extends 'u8' ? Uint8Array
  : T extends 'i16' ? Int16Array
  : T extends 'u16' ? Uint16Array
  : T extends 'i32' ? Int32Array
  : T extends 'u32' ? Uint32Array
  : T extends 'f32' ? Float32Array
  : Float64Array;

export type TypedColumn = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | Float32Array | Float64Array;

const BYTES: Record<ColumnType, number> = { i8: 1, u8: 1, i16: 2, u16: 2, i32: 4, u32: 4, f32: 4, f64: 8 };

/** Largest buffer we allow ourselves to allocate in one piece (a limit on everything). */
export const MAX_LAYOUT_BYTES = 4 * 1024 * 1024 * 1024 - CACHE_LINE_BYTES;

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

/** Builds a `LayoutDesc` column by column. Names must be unique; lengths must be >= 1. */
export class LayoutBuilder {
  private offset = 0;
  private readonly columns: Record<string, ColumnDesc> = columnRecord();

  /** Adds a column of `length` elements of `type`, starting on a fresh cache line. */
  add(name: string, type: ColumnType, length: number): this {
    if (name in this.columns) throw new Error(`layout: duplicate column '${name}'`);
    if (!Number.isInteger(length) || length < 1) {
      throw new Error(`layout: column '${name}' needs a whole length >= 1, got ${length}`);
    }
    const byteOffset = alignUp(this.offset, CACHE_LINE_BYTES);
    this.columns[name] = { type, byteOffset, length };
    this.offset = byteOffset + length * BYTES[type];
    if (this.offset > MAX_LAYOUT_BYTES) {
      throw new Error(`layout: ${this.offset} bytes exceeds the ${MAX_LAYOUT_BYTES}-byte limit at column '${name}'`);
    }
    return this;
  }

  /** Adds all columns of another layout under `prefix.` (used to nest rings, pools...). */
  addAll(prefix: string, desc: LayoutDesc): this {
    const base = alignUp(this.offset, CACHE_LINE_BYTES);
    for (const [name, c] of Object.entries(desc.columns)) {
      const key = `${prefix}.${name}`;
      if (key in this.columns) throw new Error(`layout: duplicate column '${key}'`);
      this.columns[key] = { type: c.type, byteOffset: base + c.byteOffset, length: c.length };
    }
    this.offset = base + desc.byteLength;
    return this;
  }

  build(): LayoutDesc {
    return { byteLength: alignUp(Math.max(this.offset, CACHE_LINE_BYTES), CACHE_LINE_BYTES), columns: Object.assign(columnRecord<ColumnDesc>(), this.columns) };
  }
}

/** Returns the sub-layout of every column named `prefix.*`, with offsets relative to the buffer. */
export function subLayout(desc: LayoutDesc, prefix: string): LayoutDesc {
  const sub = prefixIndex(desc).get(prefix);
  if (sub === undefined) throw new Error(`layout: no columns under '${prefix}'`);
  return sub;
}

/**
 * Every dotted prefix of `desc`'s column names with the columns under it, built on the first
 * `subLayout` of `desc` and kept while `desc` lives. A worker takes dozens of sub-layouts of one
 * layout whose column count grows with the cluster: scanning every column per call made start-up
 * quadratic in the number of cores.
 */
const prefixIndexes = new WeakMap<LayoutDesc, Map<string, LayoutDesc>>();

function prefixIndex(desc: LayoutDesc): Map<string, LayoutDesc> {
  let m = prefixIndexes.get(desc);
  if (m !== undefined) return m;
  const groups = new Map<string, Record<string, ColumnDesc>>();
  for (const [name, c] of Object.entries(desc.columns)) {
    for (let i = name.indexOf('.'); i > 0; i = name.indexOf('.', i + 1)) {
      const p = name.slice(0, i);
      let g = groups.get(p);
      if (g === undefined) {
        g = columnRecord();
        groups.set(p, g);
      }
      g[name.slice(i + 1)] = c;
    }
  }
  m = new Map();
  for (const [p, columns] of groups) m.set(p, { byteLength: desc.byteLength, columns });
  prefixIndexes.set(desc, m);
  return m;
}

/**
 * A layout as it travels to a worker thread: parallel arrays instead of an object keyed by ~1,000
 * column names, which the structured clone would rebuild key by key in each worker's isolate
 * (see `columnRecord`). `unpackLayout` gives the same `LayoutDesc` back.
 */
export interface PackedLayout {
  readonly byteLength: number;
  readonly names: readonly string[];
  readonly types: readonly ColumnType[];
  readonly byteOffsets: Float64Array;
  readonly lengths: Float64Array;
}

export function packLayout(desc: LayoutDesc): PackedLayout {
  const entries = Object.entries(desc.columns);
  const byteOffsets = new Float64Array(entries.length);
  const lengths = new Float64Array(entries.length);
  entries.forEach(([, c], i) => { byteOffsets[i] = c.byteOffset; lengths[i] = c.length; });
  return { byteLength: desc.byteLength, names: entries.map(([n]) => n), types: entries.map(([, c]) => c.type), byteOffsets, lengths };
}

export function unpackLayout(p: PackedLayout): LayoutDesc {
  const columns = columnRecord<ColumnDesc>();
  for (let i = 0; i < p.names.length; i++) columns[p.names[i]!] = { type: p.types[i]!, byteOffset: p.byteOffsets[i]!, length: p.lengths[i]! };
  return { byteLength: p.byteLength, columns };
}

/** Maps one column of `desc` onto `sab`. */
export function column<T extends ColumnType>(sab: SharedArrayBuffer, desc: LayoutDesc, name: string, type: T): ArrayFor<T> {
  const c = desc.columns[name];
  if (c === undefined) throw new Error(`layout: no column '${name}'`);
  if (c.type !== type) throw new Error(`layout: column '${name}' is ${c.type}, not ${type}`);
  return makeView(sab, c) as ArrayFor<T>;
}

export function makeView(sab: SharedArrayBuffer, c: ColumnDesc): TypedColumn {
  switch (c.type) {
    case 'i8': return new Int8Array(sab, c.byteOffset, c.length);
    case 'u8': return new Uint8Array(sab, c.byteOffset, c.length);
    case 'i16': return new Int16Array(sab, c.byteOffset, c.length);
    case 'u16': return new Uint16Array(sab, c.byteOffset, c.length);
    case 'i32': return new Int32Array(sab, c.byteOffset, c.length);
    case 'u32': return new Uint32Array(sab, c.byteOffset, c.length);
    case 'f32': return new Float32Array(sab, c.byteOffset, c.length);
    case 'f64': return new Float64Array(sab, c.byteOffset, c.length);
  }
}

/** Maps every column; the result is keyed by column name. */
export function mapLayout(sab: SharedArrayBuffer, desc: LayoutDesc): Record<string, TypedColumn> {
  if (sab.byteLength < desc.byteLength) {
    throw new Error(`layout: buffer of ${sab.byteLength} bytes is smaller than the layout's ${desc.byteLength}`);
  }
  const out = columnRecord<TypedColumn>();
  for (const [name, c] of Object.entries(desc.columns)) out[name] = makeView(sab, c);
  return out;
}

/** Allocates a SharedArrayBuffer for `desc` (zero-filled). */
export function allocate(desc: LayoutDesc): SharedArrayBuffer {
  return new SharedArrayBuffer(desc.byteLength);
}
