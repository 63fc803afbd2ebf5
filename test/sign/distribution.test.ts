/** Signing and verifying against Debian's docker-registry (no referrers API: the sha256-<hex> referrers tag). */
import { defineSignFlows } from './flows.js';

defineSignFlows('distribution');
