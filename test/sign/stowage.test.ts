/** Signing and verifying against Stowage (referrers through the API). */
import { defineSignFlows } from './flows.js';

defineSignFlows('stowage');
