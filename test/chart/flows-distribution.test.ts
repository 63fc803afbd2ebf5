import { defineChartFlows } from './flows.js';

defineChartFlows('distribution');
