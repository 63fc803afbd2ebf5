#!/usr/bin/env node
import { Command } from 'commander';
import { registerArtifact } from './artifact.js';
import { registerChart } from './chart.js';
import { registerCopy } from './copy.js';
import { registerMirror } from './mirror.js';
import { registerImage } from './image.js';
import { registerAudit } from './audit.js';
import { registerEvents } from './events.js';
import { registerGc } from './gc.js';
import { registerUsage } from './usage.js';
import { registerFsck } from './fsck.js';
import { registerInspect } from './inspect.js';
import { registerKey } from './key.js';
import { registerLogin } from './login.js';
import { registerPolicy } from './policy.js';
import { registerServe } from './serve.js';
import { registerMigrate } from './migrate.js';
import { registerSign } from './sign.js';
import { registerStorage } from './storage.js';
import { registerToken } from './token.js';
import { registerTree } from './tree.js';
import { registerUser } from './user.js';

const program = new Command();
program
  .name('stowage')
  .description('An OCI registry and client for images, Helm charts, manifests and policies.')
  .version('0.1.0')
  .showHelpAfterError()
  // Program options count only before the subcommand, so `chart pull --version`
  // is the chart's version, not the program's.
  .enablePositionalOptions()
  .exitOverride((err) => {
    // commander exits 1 on usage errors; our contract is 2 for usage.
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') process.exit(0);
    process.exit(err.exitCode === 0 ? 0 : 2);
  });

registerServe(program);
registerMigrate(program);
registerStorage(program);
registerGc(program);
registerUsage(program);
registerFsck(program);
registerEvents(program);
registerAudit(program);
registerUser(program);
registerToken(program);
registerLogin(program);
registerImage(program);
registerCopy(program);
registerMirror(program);
registerInspect(program);
registerTree(program);
registerKey(program);
registerSign(program);
registerArtifact(program);
registerPolicy(program);
registerChart(program);

await program.parseAsync(process.argv);
