/**
 * Thrift's compact protocol, read into a tree that keeps every field's wire
 * type and written back byte for byte: what a Parquet footer (FileMetaData) is
 * encoded in. Generic on purpose — a footer is rewritten by changing a few
 * numbers (see join-files.ts), and every field this code does not know, from
 * any writer or format version, goes back out exactly as it came in.
 *
 * Spec: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
 */

/** Compact protocol type ids. In a field header, booleans carry their value in the type (TRUE 1, FALSE 2). */
export const CompactType = {
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
} as const;

export type ThriftValue = boolean | bigint | number | Uint8Array | ThriftList | ThriftMap | ThriftStruct;
/** `number` is a DOUBLE, or a BYTE; integers of I16, I32 and I64 are bigints (zigzag varints). */
export interface ThriftField {
  readonly id: number;
  /** The wire type; for booleans 1 (TRUE) or 2 (FALSE) whatever the value, which `value` holds. */
  type: number;
  value: ThriftValue;
}
export interface ThriftStruct {
  readonly kind: 'struct';
  readonly fields: ThriftField[];
}
export interface ThriftList {
  readonly kind: 'list';
  /** LIST or SET. */
  readonly type: number;
  readonly elementType: number;
  readonly items: ThriftValue[];
}
export interface ThriftMap {
  readonly kind: 'map';
  readonly keyType: number;
  readonly valueType: number;
  readonly entries: [ThriftValue, ThriftValue][];
}

/** Reads one struct from `bytes` (from its first field to its stop byte). */
export function readStruct(bytes: Uint8Array): ThriftStruct {
  const reader = new Reader(bytes);
  const struct = reader.struct();
  if (reader.pos !== bytes.length) throw new Error(`thrift: ${bytes.length - reader.pos} bytes after the struct`);
  return struct;
}

/** The compact encoding of `struct`. */
export function writeStruct(struct: ThriftStruct): Uint8Array {
  const writer = new Writer();
  writer.struct(struct);
  return writer.bytes();
}

/** The field `id` of `struct`, or undefined. */
export function field(struct: ThriftStruct, id: number): ThriftField | undefined {
  return struct.fields.find((f) => f.id === id);
}

class Reader {
  pos = 0;
  constructor(private readonly bytes: Uint8Array) {}

  struct(): ThriftStruct {
    const fields: ThriftField[] = [];
    let last = 0;
    for (;;) {
      const header = this.byte();
      if (header === 0) return { kind: 'struct', fields };
      const type = header & 0x0f;
      const delta = header >> 4;
      const id = delta === 0 ? Number(zigzag(this.varint())) : last + delta;
      last = id;
      const value = type === CompactType.TRUE || type === CompactType.FALSE ? type === CompactType.TRUE : this.value(type);
      fields.push({ id, type, value });
    }
  }

  value(type: number): ThriftValue {
    switch (type) {
      case CompactType.TRUE:
      case CompactType.FALSE:
        // A boolean inside a list or map: one byte.
        return this.byte() === CompactType.TRUE;
      case CompactType.BYTE:
        return this.byte();
      case CompactType.I16:
      case CompactType.I32:
      case CompactType.I64:
        return zigzag(this.varint());
      case CompactType.DOUBLE: {
        const value = new DataView(this.bytes.buffer, this.bytes.byteOffset + this.pos, 8).getFloat64(0, true);
        this.pos += 8;
        return value;
      }
      case CompactType.BINARY: {
        const length = Number(this.varint());
        if (this.pos + length > this.bytes.length) throw new Error('thrift: a binary field runs past the end');
        const value = this.bytes.slice(this.pos, this.pos + length);
        this.pos += length;
        return value;
      }
      case CompactType.LIST:
      case CompactType.SET: {
        const header = this.byte();
        const size = header >> 4 === 0x0f ? Number(this.varint()) : header >> 4;
        const elementType = header & 0x0f;
        const items: ThriftValue[] = [];
        for (let i = 0; i < size; i++) items.push(this.value(elementType));
        return { kind: 'list', type, elementType, items };
      }
      case CompactType.MAP: {
        const size = Number(this.varint());
        const types = size > 0 ? this.byte() : 0;
        const entries: [ThriftValue, ThriftValue][] = [];
        for (let i = 0; i < size; i++) entries.push([this.value(types >> 4), this.value(types & 0x0f)]);
        return { kind: 'map', keyType: types >> 4, valueType: types & 0x0f, entries };
      }
      case CompactType.STRUCT:
        return this.struct();
      default:
        throw new Error(`thrift: unknown compact type ${type} at byte ${this.pos}`);
    }
  }

  byte(): number {
    if (this.pos >= this.bytes.length) throw new Error('thrift: unexpected end of the struct');
    return this.bytes[this.pos++];
  }

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.byte();
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
      if (shift > 70n) throw new Error('thrift: varint too long');
    }
  }
}

class Writer {
  private buffer = new Uint8Array(1024);
  private pos = 0;

  struct(struct: ThriftStruct): void {
    let last = 0;
    for (const f of struct.fields) {
      const type = f.type === CompactType.TRUE || f.type === CompactType.FALSE ? (f.value ? CompactType.TRUE : CompactType.FALSE) : f.type;
      const delta = f.id - last;
      if (delta > 0 && delta <= 15) this.byte((delta << 4) | type);
      else {
        this.byte(type);
        this.varint(unzigzag(BigInt(f.id)));
      }
      last = f.id;
      if (type !== CompactType.TRUE && type !== CompactType.FALSE) this.value(type, f.value);
    }
    this.byte(0);
  }

  value(type: number, value: ThriftValue): void {
    switch (type) {
      case CompactType.TRUE:
      case CompactType.FALSE:
        return this.byte(value ? CompactType.TRUE : CompactType.FALSE);
      case CompactType.BYTE:
        return this.byte(Number(value) & 0xff);
      case CompactType.I16:
      case CompactType.I32:
      case CompactType.I64:
        return this.varint(unzigzag(value as bigint));
      case CompactType.DOUBLE: {
        this.ensure(8);
        new DataView(this.buffer.buffer, this.pos, 8).setFloat64(0, value as number, true);
        this.pos += 8;
        return;
      }
      case CompactType.BINARY: {
        const bytes = value as Uint8Array;
        this.varint(BigInt(bytes.length));
        this.ensure(bytes.length);
        this.buffer.set(bytes, this.pos);
        this.pos += bytes.length;
        return;
      }
      case CompactType.LIST:
      case CompactType.SET: {
        const list = value as ThriftList;
        if (list.items.length < 15) this.byte((list.items.length << 4) | list.elementType);
        else {
          this.byte(0xf0 | list.elementType);
          this.varint(BigInt(list.items.length));
        }
        for (const item of list.items) this.value(list.elementType, item);
        return;
      }
      case CompactType.MAP: {
        const map = value as ThriftMap;
        this.varint(BigInt(map.entries.length));
        if (map.entries.length > 0) this.byte((map.keyType << 4) | map.valueType);
        for (const [k, v] of map.entries) {
          this.value(map.keyType, k);
          this.value(map.valueType, v);
        }
        return;
      }
      case CompactType.STRUCT:
        return this.struct(value as ThriftStruct);
      default:
        throw new Error(`thrift: unknown compact type ${type}`);
    }
  }

  byte(b: number): void {
    this.ensure(1);
    this.buffer[this.pos++] = b;
  }

  varint(n: bigint): void {
    let rest = n;
    while (rest >= 0x80n) {
      this.byte(Number(rest & 0x7fn) | 0x80);
      rest >>= 7n;
    }
    this.byte(Number(rest));
  }

  bytes(): Uint8Array {
    return this.buffer.slice(0, this.pos);
  }

  private ensure(more: number): void {
    if (this.pos + more <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.pos + more));
    grown.set(this.buffer.subarray(0, this.pos));
    this.buffer = grown;
  }
}

/** Zigzag-decodes a 64-bit varint into a signed value. */
function zigzag(n: bigint): bigint {
  return (n >> 1n) ^ -(n & 1n);
}

/** Zigzag-encodes a signed 64-bit value. */
function unzigzag(n: bigint): bigint {
  return BigInt.asUintN(64, (n << 1n) ^ (n >> 63n));
}
