/**
 * The `audit:` section (pure). Off by default.
 *
 *   audit:
 *     file: /var/log/stowage/audit.jsonl   # or "stdout"
 */
export interface AuditConfig {
  /** A file path (appended to) or "stdout". */
  file: string;
}

export class AuditConfigError extends Error {}

export function parseAudit(raw: unknown): AuditConfig | undefined {
  if (raw === undefined || raw === null || raw === false) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new AuditConfigError('audit must be a mapping with file');
  const { file, ...rest } = raw as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length > 0) throw new AuditConfigError(`audit: unknown setting "${unknown[0]}" (allowed: file)`);
  if (typeof file !== 'string' || file === '') throw new AuditConfigError('audit.file must be a file path or "stdout"');
  return { file };
}
