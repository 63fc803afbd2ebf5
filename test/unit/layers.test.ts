/**
 * The layer rules of eslint/layers.js (docs/architecture.md) refuse what they should
 * and allow what they should: each case lints one import as if it were written in a
 * file of that layer (the text is linted in memory; nothing is written to src/).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const load = async (file: string): Promise<Record<string, unknown>> =>
  (await import(pathToFileURL(join(ROOT, file)).href)) as Record<string, unknown>;

const { layerConfigs } = (await load('eslint/layers.js')) as { layerConfigs: Linter.Config[] };

// The layer rules alone, on TypeScript's parser without type information (the full
// config's type-aware rules need every file on disk and cost a whole program).
const eslint = new ESLint({
  cwd: ROOT,
  overrideConfigFile: true,
  overrideConfig: [{ files: ['**/*.ts'], languageOptions: { parser: tseslint.parser } }, ...layerConfigs],
});

async function lint(file: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, file) });
  return result!.messages;
}

const importing = (spec: string) => `import * as m from '${spec}';\nexport const used = m;\n`;

describe('layer rules', () => {
  it('are part of the config `npm run lint` uses', async () => {
    const config = (await load('eslint.config.js')).default as Linter.Config[];
    for (const c of layerConfigs) assert.ok(config.includes(c), 'eslint.config.js includes every layer rule');
  });

  const refused: [file: string, spec: string, rule: string][] = [
    ['src/core/probe.ts', '../http/routes.js', 'import-x/no-restricted-paths'],
    ['src/core/probe.ts', '../gocompat/json.js', 'import-x/no-restricted-paths'],
    ['src/core/probe.ts', 'node:fs/promises', 'no-restricted-imports'],
    ['src/core/probe.ts', 'fs', 'no-restricted-imports'],
    ['src/core/probe.ts', 'node:net', 'no-restricted-imports'],
    ['src/sign/probe.ts', '../client/errors.js', 'import-x/no-restricted-paths'],
    ['src/chart/probe.ts', '../client/errors.js', 'import-x/no-restricted-paths'],
    ['src/client/probe.ts', '../registry/registry.js', 'import-x/no-restricted-paths'],
    ['src/client/probe.ts', '../auth/policy.js', 'import-x/no-restricted-paths'],
    ['src/client/ops/probe.ts', '../../storage/blob-store.js', 'import-x/no-restricted-paths'],
    ['src/registry/probe.ts', '../client/client.js', 'import-x/no-restricted-paths'],
    ['src/registry/probe.ts', '../config/config.js', 'import-x/no-restricted-paths'],
    ['src/registry/probe.ts', '../http/server.js', 'import-x/no-restricted-paths'],
    ['src/registry/probe.ts', '../storage/sqlite/sqlite-metadata-store.js', 'import-x/no-restricted-paths'],
    ['src/registry/probe.ts', '../storage/open-stores.js', 'import-x/no-restricted-paths'],
    ['src/http/probe.ts', '../auth/setup.js', 'import-x/no-restricted-paths'],
    ['src/http/handlers/probe.ts', '../../storage/disk/disk-blob-store.js', 'import-x/no-restricted-paths'],
    ['src/auth/probe.ts', '../config/config.js', 'import-x/no-restricted-paths'],
    ['src/lifecycle/probe.ts', '../config/config.js', 'import-x/no-restricted-paths'],
    ['src/storage/sqlite/probe.ts', '../disk/disk-blob-store.js', 'import-x/no-restricted-paths'],
    ['src/storage/sqlite/probe.ts', '../open-stores.js', 'import-x/no-restricted-paths'],
    ['src/storage/disk/probe.ts', '../../registry/registry.js', 'import-x/no-restricted-paths'],
    ['src/cli/probe.ts', '../http/server.js', 'import-x/no-restricted-paths'],
    ['src/cli/probe.ts', '../storage/disk/disk-blob-store.js', 'import-x/no-restricted-paths'],
    ['src/gocompat/probe.ts', '../core/digest.js', 'import-x/no-restricted-paths'],
    ['src/registry/probe.ts', './no-such-file.js', 'import-x/no-unresolved'],
  ];
  for (const [file, spec, rule] of refused) {
    it(`refuses ${spec} in ${file}`, async () => {
      const messages = await lint(file, importing(spec));
      assert.deepEqual(
        messages.map((m) => m.ruleId),
        [rule],
        messages.map((m) => m.message).join('\n'),
      );
    });
  }

  const allowed: [file: string, spec: string][] = [
    ['src/core/probe.ts', 'node:crypto'],
    ['src/core/probe.ts', './digest.js'],
    ['src/registry/probe.ts', '../core/digest.js'],
    ['src/registry/probe.ts', '../storage/blob-store.js'],
    ['src/registry/probe.ts', '../sign/check.js'],
    ['src/http/probe.ts', '../registry/registry.js'],
    ['src/auth/probe.ts', '../http/access.js'],
    ['src/storage/sqlite/probe.ts', '../metadata-store.js'],
    ['src/storage/sqlite/probe.ts', '../../core/errors.js'],
    ['src/client/probe.ts', '../sign/keys.js'],
    ['src/client/ops/probe.ts', '../../chart/index.js'],
    ['src/config/probe.ts', '../registry/signature-policy.js'],
    ['src/app.ts', './storage/open-stores.js'],
    ['src/cli/probe.ts', '../client/index.js'],
    ['src/cli/probe.ts', '../app.js'],
  ];
  for (const [file, spec] of allowed) {
    it(`allows ${spec} in ${file}`, async () => {
      const messages = await lint(file, importing(spec));
      assert.deepEqual(messages, []);
    });
  }

  it('refuses an import cycle', async () => {
    // core/manifest.ts imports core/digest.ts; digest.ts importing manifest.ts closes a cycle.
    const messages = await lint('src/core/digest.ts', importing('./manifest.js'));
    assert.deepEqual(
      messages.map((m) => m.ruleId),
      ['import-x/no-cycle'],
    );
  });
});
