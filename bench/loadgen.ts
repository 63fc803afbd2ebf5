/**
 * The load generator: a process of its own (forked by run.ts), so that its CPU
 * use is measured apart from the orchestrator's and neither registry shares it.
 * It receives scenario definitions over IPC and answers with results.
 */
import type { DistributionStorage } from './dist-layout.js';
import type { ProxySetup } from './proxy.js';
import { prepareScenario, runScenario, type ScenarioDef, type ScenarioResult } from './scenarios.js';

export type LoadgenRequest =
  | {
      id: number;
      op: 'prepare';
      def: ScenarioDef;
      target: string;
      url: string;
      layout?: DistributionStorage;
      proxy?: ProxySetup;
    }
  | { id: number; op: 'run'; def: ScenarioDef; target: string }
  | { id: number; op: 'exit' };

export type LoadgenReply = { id: number; ok: true; result?: ScenarioResult } | { id: number; ok: false; error: string };

function reply(msg: LoadgenReply): void {
  process.send!(msg);
}

process.on('message', (msg: LoadgenRequest) => {
  void (async () => {
    try {
      switch (msg.op) {
        case 'prepare':
          await prepareScenario(msg.def, msg.target, msg.url, msg.layout, msg.proxy);
          reply({ id: msg.id, ok: true });
          break;
        case 'run':
          reply({ id: msg.id, ok: true, result: await runScenario(msg.def, msg.target) });
          break;
        case 'exit':
          reply({ id: msg.id, ok: true });
          process.disconnect();
          break;
      }
    } catch (e) {
      reply({ id: msg.id, ok: false, error: e instanceof Error ? e.message : String(e) });
    }
  })();
});

// The orchestrator going away ends the load generator too.
process.on('disconnect', () => process.exit(0));
