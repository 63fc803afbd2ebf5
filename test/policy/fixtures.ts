/** Policy directories for the OPA bundle tests. */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export async function writePolicyDir(dir: string, files: Record<string, string>): Promise<void> {
  for (const [p, c] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await writeFile(path.join(dir, p), c);
  }
}

export const PEOPLEFINDER = {
  '.manifest': '{"revision":"","roots":["peoplefinder"]}\n',
  'data.json': '{"peoplefinder":{"admins":["alice"]}}\n',
  'peoplefinder/authz.rego':
    'package peoplefinder.authz\n\ndefault allow := false\n\nallow if input.user in data.peoplefinder.admins\n',
  'peoplefinder/roles/data.json': '{"viewer":["bob"]}\n',
  'peoplefinder/util.rego': '# helpers\npackage peoplefinder["util-x"]\n\nx := 1\n',
  'README.md': 'not part of the bundle\n',
};
