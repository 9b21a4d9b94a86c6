/**
 * The package as a user gets it: `npm pack` (its `prepack` runs `npm run build`), then the tarball
 * unpacked into `<project>/node_modules/oversqlite` of a fresh project outside the repository.
 *
 * The pack runs in a private copy of the package's inputs, not in the shared working tree, so
 * parallel test files (and other people's builds) never see each other's half-written dist/.
 * Dependencies are symlinked from the repository's node_modules (no registry access): Node
 * follows symlinks to their real path, so their own dependencies resolve there too.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** What `npm pack` needs from the repository: the build inputs and the package's own files. */
const PACK_INPUTS = [
  'package.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'README.md',
  'LICENSE',
  'scripts/build.mjs',
  'protocol',
  'server',
  'worker',
  'src',
];

/** Environment for child processes: no loaders or test-runner options leaking into "plain node". */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_OPTIONS' || key.startsWith('VITEST') || key.startsWith('npm_')) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

export interface PackedProject {
  /** Temporary root holding the staging copy, the tarball and the project; `dispose()` removes it. */
  root: string;
  tarball: string;
  /** The consumer project: `node_modules/oversqlite` is the unpacked tarball. */
  projectDir: string;
  /** The unpacked package directory. */
  packageDir: string;
  /** Paths inside the tarball (`package/` prefix removed). */
  files: string[];
  dispose(): void;
}

/**
 * Packs the package and installs it into a new project, linking its dependencies and `extraLinks`
 * (dev tools the test's consumer uses: `typescript`, `vite`, `@types/node`, …) from the repository.
 */
export function packAndInstall(name: string, extraLinks: readonly string[] = []): PackedProject {
  const root = mkdtempSync(join(tmpdir(), `oversqlite-${name}-`));
  try {
    const staging = join(root, 'staging');
    for (const input of PACK_INPUTS) {
      const from = join(REPO_ROOT, input);
      if (existsSync(from)) cpSync(from, join(staging, input), { recursive: true });
    }
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(staging, 'node_modules'), 'dir');
    const packDir = join(root, 'pack');
    mkdirSync(packDir);
    try {
      execFileSync('npm', ['pack', '--pack-destination', packDir, '--loglevel', 'error'], {
        cwd: staging,
        env: cleanEnv(),
        stdio: 'pipe',
        encoding: 'utf8',
        timeout: 90_000,
      });
    } catch (err) {
      // tsc reports on stdout: without it a failed build says only "exited with 2".
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`npm pack (prepack: npm run build) failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    }
    const tarballs = readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    if (tarballs.length !== 1) throw new Error(`expected one tarball, found ${tarballs.join(', ') || 'none'}`);
    const tarball = join(packDir, tarballs[0]!);
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((p) => p.replace(/^package\//, ''));

    const projectDir = join(root, 'project');
    const packageDir = join(projectDir, 'node_modules', 'oversqlite');
    mkdirSync(packageDir, { recursive: true });
    execFileSync('tar', ['-xzf', tarball, '-C', packageDir, '--strip-components=1']);
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of [...Object.keys(manifest.dependencies ?? {}), ...extraLinks]) {
      const link = join(projectDir, 'node_modules', dep);
      mkdirSync(dirname(link), { recursive: true });
      symlinkSync(join(REPO_ROOT, 'node_modules', dep), link, 'dir');
    }
    return { root, tarball, projectDir, packageDir, files, dispose: () => rmSync(root, { recursive: true, force: true }) };
  } catch (err) {
    rmSync(root, { recursive: true, force: true });
    throw err;
  }
}
