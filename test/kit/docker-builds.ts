/**
 * Builds docker/'s real Dockerfiles on the test engine, fully offline: FROM the offline base image
 * (docker-images.ts), with RUN steps on network `none`, taking what would come from npm out of the
 * build context through each Dockerfile's documented offline path:
 *
 * - docker/Dockerfile.agent with AGENT_CLIS_FROM=context and `.cache/agent-clis` (installAgentClis)
 *   at offline-agent-clis/;
 * - docker/Dockerfile with DEPS_FROM=context and this checkout's node_modules at offline-deps/
 *   (minus two large dev-only packages the build does not use).
 *
 * Each image is tagged with a hash of everything in its build context, so an unchanged input is
 * built once per machine and a changed one is rebuilt.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { installAgentClis } from './agent-clis.js';
import { enginePaths, withLock } from './docker.js';
import { ensureBaseImage, followProgress, imageExists } from './docker-images.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Dev-only packages the TypeScript build never imports (test fixtures and the linter): ~480 MB. */
export const FORGE_CONTEXT_EXCLUDES = ['node_modules/@octokit/openapi', 'node_modules/@biomejs'];

/** Hash of files' contents (and their relative names); directories are walked, symlinks not followed. */
function hashTree(paths: string[], base: string, exclude: string[] = []): string {
  const h = createHash('sha256');
  const walk = (rel: string) => {
    if (exclude.includes(rel)) return;
    const full = join(base, rel);
    const st = statSync(full, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) {
      for (const entry of readdirSync(full).sort()) walk(join(rel, entry));
    } else if (st.isFile()) {
      h.update(`${rel}\0${st.size}\0`);
      h.update(readFileSync(full));
    }
  };
  for (const p of paths) walk(p);
  return h.digest('hex');
}

interface TarPart {
  dir: string;
  members: string[];
  /** GNU tar --transform expression for these members. */
  transform?: string;
  exclude?: string[];
}

/** One tar stream from several directories (`tar -C a x -C b y` with per-part renames). */
function tarContext(parts: TarPart[]): Readable {
  const args = ['-c', '--numeric-owner', '--owner=0', '--group=0'];
  for (const part of parts) {
    for (const ex of part.exclude ?? []) args.push(`--exclude=${ex}`);
  }
  // --transform is global in GNU tar; each expression is anchored to its part's members.
  for (const part of parts) if (part.transform) args.push(`--transform=${part.transform}`);
  for (const part of parts) args.push('-C', part.dir, ...part.members);
  const child = spawn('tar', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  child.once('exit', (code) => {
    if (code !== 0) child.stdout.destroy(new Error(`tar of the build context failed (${code}): ${stderr}`));
  });
  return child.stdout;
}

async function build(
  docker: Docker,
  ref: string,
  context: () => Readable,
  dockerfile: string,
  buildargs: Record<string, string>,
): Promise<string> {
  if (await imageExists(docker, ref)) return ref;
  // One build at a time on the engine: the clean-up below must not remove another build's
  // intermediate images, and builds are CPU-bound anyway.
  const lockDir = join(enginePaths().cacheDir, 'docker', 'build.lock');
  await withLock(
    lockDir,
    async () => {
      if (await imageExists(docker, ref)) return;
      const stream = await docker.buildImage(context(), {
        t: ref,
        dockerfile,
        buildargs,
        // RUN steps get no network at all: the offline path must really be offline.
        networkmode: 'none',
        rm: true,
        forcerm: true,
        version: '1',
      });
      await followProgress(docker, stream);
      await removeOlderTags(docker, ref);
    },
    30 * 60_000,
  );
  return ref;
}

/**
 * Each changed input makes a new tag; the older ones, and the untagged images earlier builds
 * left behind (build stages), would pile up in `.cache`. Images still in use by a container are
 * kept (the engine refuses to remove them).
 */
async function removeOlderTags(docker: Docker, ref: string): Promise<void> {
  const repo = ref.slice(0, ref.lastIndexOf(':'));
  const images = await docker.listImages({ filters: { reference: [repo] } });
  for (const image of images) {
    for (const tag of image.RepoTags ?? []) {
      if (tag !== ref && tag.startsWith(`${repo}:`)) {
        await docker
          .getImage(tag)
          .remove()
          .catch(() => undefined);
      }
    }
  }
  await docker.pruneImages({ filters: { dangling: ['true'] } }).catch(() => undefined);
}

/** docker/Dockerfile.agent built offline: the four CLIs at the pinned versions, user 1000. */
export async function ensureAgentImage(docker: Docker): Promise<string> {
  const [base, clis] = await Promise.all([ensureBaseImage(docker), installAgentClis()]);
  const key = createHash('sha256')
    .update(base)
    .update(readFileSync(join(root, 'docker', 'Dockerfile.agent')))
    .update(readFileSync(join(root, 'docker', 'agent-clis.json')))
    .update(readFileSync(join(clis.prefix, 'installed.json')))
    .digest('hex')
    .slice(0, 12);
  return build(
    docker,
    `forge-test/agent:${key}`,
    () =>
      tarContext([
        { dir: root, members: ['docker/Dockerfile.agent', 'docker/agent-clis.json'] },
        {
          dir: realpathSync(clis.prefix),
          members: ['node_modules'],
          transform: 's,^node_modules,offline-agent-clis/node_modules,S',
        },
      ]),
    'docker/Dockerfile.agent',
    { BASE_IMAGE: base, AGENT_CLIS_FROM: 'context' },
  );
}

const FORGE_FILES = [
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
  'app.yml',
  'src',
];

/** docker/Dockerfile (Forge itself) built offline from this checkout and its node_modules. */
export async function ensureForgeImage(docker: Docker): Promise<string> {
  const base = await ensureBaseImage(docker);
  const modules = realpathSync(join(root, 'node_modules'));
  const key = createHash('sha256')
    .update(base)
    .update(hashTree(['docker/Dockerfile', ...FORGE_FILES], root))
    // npm records the installed tree here; it changes whenever node_modules does.
    .update(readFileSync(join(modules, '.package-lock.json')))
    .digest('hex')
    .slice(0, 12);
  return build(
    docker,
    `forge-test/forge:${key}`,
    () =>
      tarContext([
        { dir: root, members: ['docker/Dockerfile', ...FORGE_FILES], exclude: ['*.test.ts'] },
        {
          dir: dirname(modules),
          members: ['node_modules'],
          transform: 's,^node_modules,offline-deps/node_modules,S',
          exclude: FORGE_CONTEXT_EXCLUDES,
        },
      ]),
    'docker/Dockerfile',
    { BASE_IMAGE: base, DEPS_FROM: 'context' },
  );
}
