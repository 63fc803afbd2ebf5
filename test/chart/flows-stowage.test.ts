import { defineChartFlows } from './flows.js';

defineChartFlows('stowage');
