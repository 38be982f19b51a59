import { describe, expect, it } from 'vitest';
import { firstNonAscii, isUtf8 } from '../../src/table/utf8.ts';

describe('UTF-8 checks on raw bytes', () => {
  const bytes = (...parts: (string | number[])[]) =>
    Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p)] : p)));

  it('accepts ASCII and well-formed multi-byte text, rejects Latin-1 and cut characters', () => {
    const zurich = bytes('Zürich');
    expect(isUtf8(bytes('N'), 0, 1)).toBe(true);
    expect(isUtf8(zurich, 0, zurich.length)).toBe(true);
    expect(isUtf8(bytes('Caf', [0xe9]), 0, 4)).toBe(false);
    // "ü" is two bytes: a range that cuts it in half is not UTF-8 on either side.
    expect(isUtf8(zurich, 0, 2)).toBe(false);
    expect(isUtf8(zurich, 2, zurich.length)).toBe(false);
    expect(firstNonAscii(zurich, 0, zurich.length)).toBe(1);
    expect(firstNonAscii(bytes('plain'), 0, 5)).toBe(5);
  });
});
