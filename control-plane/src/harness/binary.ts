import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The real `opencode` binary of the pinned `opencode-ai` package. Its postinstall links the binary
 * for this CPU (baseline where AVX2 is missing) to bin/opencode.exe; without the postinstall that
 * file is a stub, and the platform packages' own binaries are used instead.
 */
export function resolveOpencodeBinary(): string {
  const candidates: string[] = [];
  const packageDir = (name: string) => {
    try {
      return path.dirname(require.resolve(`${name}/package.json`));
    } catch {
      return undefined;
    }
  };
  const main = packageDir('opencode-ai');
  if (main) candidates.push(path.join(main, 'bin', 'opencode.exe'));
  for (const name of ['opencode-linux-x64', 'opencode-linux-x64-baseline', 'opencode-linux-arm64']) {
    const dir = packageDir(name);
    if (dir) candidates.push(path.join(dir, 'bin', 'opencode'));
  }
  const found = candidates.find((file) => existsSync(file) && statSync(file).size > 1024 * 1024);
  if (!found) {
    throw new Error('The opencode binary was not found. Run "npm install" (with install scripts enabled) in the repository.');
  }
  return found;
}
