/**
 * Go's time.RFC3339 layout, the one formatter and parser every Go-shaped timestamp
 * here uses (OCI `created` annotations of flux, helm and opa pushes, Chart.lock's
 * `generated`, token listings).
 */

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** t.Format(time.RFC3339): whole seconds, "Z" for UTC, else the local zone's offset ("+01:00"). */
export function formatRFC3339(d: Date, zone: 'utc' | 'local' = 'utc'): string {
  if (zone === 'utc')
    return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}Z`;
  const off = -d.getTimezoneOffset();
  const z = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
  return `${pad(d.getFullYear(), 4)}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}${z}`;
}

/** Does `s` parse with time.Parse(time.RFC3339, s) (ranges checked, as Go checks them)? */
export function isRFC3339(s: string): boolean {
  const m = RFC3339.exec(s);
  if (!m) return false;
  const [, y, mo, d, h, mi, se, , z] = m;
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1) return false;
  const dim = new Date(Date.UTC(Number(y), month, 0)).getUTCDate();
  if (day > dim || Number(h) > 23 || Number(mi) > 59 || Number(se) > 59) return false;
  if (z !== 'Z' && z !== 'z' && (Number(z!.slice(1, 3)) > 23 || Number(z!.slice(4, 6)) > 59)) return false;
  return true;
}

/**
 * time.Time's JSON round trip: RFC 3339 in, RFC3339Nano out (fraction cut to 9
 * digits, trailing zeros trimmed, "Z" for offset 0); undefined when `s` is not RFC 3339.
 */
export function normalizeRFC3339Nano(s: string): string | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const frac = (m[7] ?? '').slice(0, 9).replace(/0+$/, '');
  const zone = m[8]!.toUpperCase() === 'Z' || /^[+-]00:00$/.test(m[8]!) ? 'Z' : m[8]!;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${frac ? `.${frac}` : ''}${zone}`;
}
