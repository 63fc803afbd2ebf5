/** Platforms ("linux/arm64/v8") and choosing an index entry by platform, as docker does. */
import { clientError } from './errors.js';

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const GOARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  loong64: 'loong64',
  mips: 'mips',
  mipsel: 'mipsle',
};

/** This machine's platform in OCI terms. */
export function hostPlatform(): Platform {
  const architecture = GOARCH[process.arch] ?? process.arch;
  return { os: process.platform === 'win32' ? 'windows' : 'linux', architecture };
}

export function parsePlatform(text: string): Platform {
  const parts = text.trim().toLowerCase().split('/');
  if (parts.length < 2 || parts.length > 3 || parts.some((p) => !/^[a-z0-9._-]+$/.test(p))) {
    throw clientError('INVALID_PLATFORM', { input: text });
  }
  return { os: parts[0]!, architecture: parts[1]!, ...(parts[2] ? { variant: parts[2] } : {}) };
}

export function formatPlatform(p: Partial<Platform> | undefined): string {
  if (!p) return 'unknown';
  return [p.os ?? 'unknown', p.architecture ?? 'unknown', p.variant].filter(Boolean).join('/');
}

function normalizedVariant(p: Partial<Platform>): string | undefined {
  if (p.architecture === 'arm64' && (p.variant === undefined || p.variant === 'v8')) return undefined;
  return p.variant;
}

/** Does an index entry's platform satisfy `want`? (No variant wanted: any variant does.) */
export function platformMatches(want: Platform, have: Partial<Platform> | undefined): boolean {
  if (!have || have.os !== want.os || have.architecture !== want.architecture) return false;
  return want.variant === undefined || normalizedVariant(want) === normalizedVariant(have);
}

/** Attestation and other non-runnable entries (BuildKit's unknown/unknown). */
export function isRunnablePlatform(p: Partial<Platform> | undefined): boolean {
  return !!p && p.os !== 'unknown' && p.architecture !== 'unknown';
}
