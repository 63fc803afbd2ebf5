import { defineFlows } from './flows.js';

defineFlows('stowage');
