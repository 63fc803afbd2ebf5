/** Go's strconv.FormatFloat(f, 'g', -1, 32|64): the shortest digits that read back as the same float. */
// ---------------------------------------------------------------------------------
// strconv.FormatFloat(f, 'g', -1, bits)

function shortestDigits(f: number, bits: 32 | 64): { digits: string; dp: number } {
  let exp: string;
  if (bits === 64) {
    exp = Math.abs(f).toExponential();
  } else {
    const target = Math.fround(Math.abs(f));
    exp = target.toExponential(8);
    for (let p = 1; p <= 9; p++) {
      const s = target.toExponential(p - 1);
      if (Math.fround(Number(s)) === target) {
        exp = s;
        break;
      }
    }
  }
  const [mant, e] = exp.split('e') as [string, string];
  const digits = mant.replace('.', '').replace(/0+$/, '') || '0';
  return { digits, dp: Number(e) + 1 };
}

export function goFormatFloat(f: number, bits: 32 | 64 = 64): string {
  if (Number.isNaN(f)) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  const neg = f < 0 || Object.is(f, -0);
  if (f === 0) return neg ? '-0' : '0';
  const { digits, dp } = shortestDigits(f, bits);
  const nd = digits.length;
  const exp = dp - 1;
  let s: string;
  if (exp < -4 || exp >= 6) {
    const mant = nd > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    const e = Math.abs(exp);
    s = `${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
  } else if (dp <= 0) {
    s = `0.${'0'.repeat(-dp)}${digits}`;
  } else if (dp >= nd) {
    s = digits + '0'.repeat(dp - nd);
  } else {
    s = `${digits.slice(0, dp)}.${digits.slice(dp)}`;
  }
  return neg ? `-${s}` : s;
}
