/**
 * The `ui:` section (pure): the web UI at `/` and the JSON API under `/api/v1` it
 * reads. On by default.
 *
 *   ui: false                                  # no UI, no /api/v1 (404)
 *   ui:
 *     session_ttl_seconds: 43200               # sign-in cookie lifetime (default 12 h)
 *     signature_keys: [./keys/cosign.pub]      # shown as "verified" when a signature checks against one
 */
export interface UiConfig {
  enabled: boolean;
  /** How long a sign-in session lasts. */
  sessionTtlSeconds: number;
  /** Public key files signatures are verified against in the UI (besides require_signatures' keys). */
  signatureKeys: string[];
}

export const UI_DEFAULTS: UiConfig = { enabled: true, sessionTtlSeconds: 12 * 60 * 60, signatureKeys: [] };

export class UiConfigError extends Error {}

const KEYS: Record<string, 'enabled' | 'sessionTtlSeconds' | 'signatureKeys'> = {
  enabled: 'enabled',
  session_ttl_seconds: 'sessionTtlSeconds',
  sessionTtlSeconds: 'sessionTtlSeconds',
  signature_keys: 'signatureKeys',
  signatureKeys: 'signatureKeys',
};

/** `true`/`false` (also as env text), or a mapping; absent: the defaults. */
export function parseUi(raw: unknown): UiConfig {
  if (raw === undefined || raw === null) return UI_DEFAULTS;
  if (raw === true || raw === 'true' || raw === '1') return UI_DEFAULTS;
  if (raw === false || raw === 'false' || raw === '0') return { ...UI_DEFAULTS, enabled: false };
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw new UiConfigError('ui must be true, false or a mapping (signature_keys, session_ttl_seconds, enabled)');
  const out: UiConfig = { ...UI_DEFAULTS };
  for (const [k, v] of Object.entries(raw)) {
    const key = KEYS[k];
    if (!key) throw new UiConfigError(`ui: unknown setting "${k}"`);
    if (key === 'enabled') {
      if (typeof v !== 'boolean') throw new UiConfigError('ui.enabled must be true or false');
      out.enabled = v;
    } else if (key === 'sessionTtlSeconds') {
      const n = typeof v === 'string' ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 60)
        throw new UiConfigError('ui.session_ttl_seconds must be an integer ≥ 60');
      out.sessionTtlSeconds = n;
    } else {
      if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === ''))
        throw new UiConfigError('ui.signature_keys must be a list of public key files');
      out.signatureKeys = v as string[];
    }
  }
  return out;
}
