/**
 * The chart module's failures as client catalog errors. src/chart knows nothing of
 * the client; the client (and the CLI's local chart commands) translate here.
 */
import { ChartLoadError } from '../chart/loader.js';
import { ChartInvalidError } from '../chart/package.js';
import { ScaffoldError } from '../chart/scaffold.js';
import { clientError } from './errors.js';

/** The catalog error for a chart failure (anything else is returned as it is). */
export function asChartClientError(e: unknown, chart: string): unknown {
  if (e instanceof ChartInvalidError)
    return clientError('CHART_INVALID', {
      chart,
      problems: e.problems.map((p) => ({ message: p.message, ...(p.hint ? { hint: p.hint } : {}) })),
    });
  if (e instanceof ChartLoadError)
    return clientError(
      'CHART_LOAD_FAILED',
      { chart, detail: e.message, ...(e.hint ? { hint: e.hint } : {}) },
      { cause: e },
    );
  if (e instanceof ScaffoldError) return clientError('CHART_NAME_INVALID', { name: chart, detail: e.message });
  return e;
}
