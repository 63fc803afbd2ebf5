/** token.go: a literal or a (length, offset) match packed into 32 bits, and the RFC 1951 code of each. */
export const lengthShift = 22;
export const offsetMask = (1 << lengthShift) - 1;
export const matchType = 1 << 30;

export const lengthCodes = new Uint8Array(256);
export const offsetCodes = new Uint8Array(256);
{
  // The tables of token.go, generated from the RFC 1951 code ranges they encode.
  const lengthBaseTable = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 255,
  ];
  for (let code = 0; code < 28; code++)
    for (let l = lengthBaseTable[code]!; l < lengthBaseTable[code + 1]!; l++) lengthCodes[l] = code;
  lengthCodes[255] = 28;
  const offsetBaseSmall = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256];
  for (let code = 0; code < 16; code++)
    for (let o = offsetBaseSmall[code]!; o < offsetBaseSmall[code + 1]!; o++) offsetCodes[o] = code;
}

export function offsetCode(off: number): number {
  if (off < 256) return offsetCodes[off]!;
  if (off >> 7 < 256) return offsetCodes[off >> 7]! + 14;
  return offsetCodes[off >> 14]! + 28;
}
