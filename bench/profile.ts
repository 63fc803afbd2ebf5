/**
 * Summarises a V8 .cpuprofile (from `npm run bench -- --cpu-prof DIR`): the
 * functions with the most self time, and the share of time idle or in GC.
 *
 *   node dist/bench/profile.js DIR/CPU.*.cpuprofile [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topText] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node dist/bench/profile.js FILE.cpuprofile [top]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const selfUs = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  total += dt;
  const n = byId.get(id);
  if (!n) return;
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url ? `${url.replace(/^file:\/\/.*?\/(dist|node_modules)\//, '$1/')}:${lineNumber + 1}` : '';
  const key = `${functionName || '(anonymous)'} ${where}`.trim();
  selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
});
const top = Number(topText ?? 25);
process.stdout.write(`${(total / 1e6).toFixed(1)} s sampled\n`);
for (const [key, us] of [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  process.stdout.write(
    `${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(7)} ms  ${key}\n`,
  );
}
