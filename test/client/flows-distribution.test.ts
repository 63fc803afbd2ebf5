import { defineFlows } from './flows.js';

defineFlows('distribution');
