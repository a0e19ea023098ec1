/**
 * docker/'s Dockerfiles built offline on the real engine (FROM the debootstrap base, RUN steps on
 * network none) and checked by running them: the agent image's four CLIs at their pinned versions
 * as uid 1000 inside a DockerSandbox, and Forge's own image starting far enough to validate config.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type Docker from 'dockerode';
import { DockerSandbox } from '../../src/sandbox/docker/docker-sandbox.js';
import type { SandboxSession } from '../../src/sandbox/types.js';
import { cliPins } from '../kit/agent-clis.js';
import { useDockerEngine } from '../kit/docker.js';
import { ensureAgentImage, ensureForgeImage } from '../kit/docker-builds.js';
import { collectLines, type SandboxDirs, sandboxDirs } from '../kit/sandbox-dirs.js';

const use = await useDockerEngine();

const CLI_PACKAGES: Record<string, string> = {
  claude: '@anthropic-ai/claude-code',
  codex: '@openai/codex',
  gemini: '@google/gemini-cli',
  opencode: 'opencode-ai',
};

/** Runs a container to completion and returns its exit code and combined output. */
async function runToEnd(
  docker: Docker,
  options: Docker.ContainerCreateOptions,
): Promise<{ code: number; output: string }> {
  const container = await docker.createContainer({
    ...options,
    HostConfig: { NetworkMode: 'none', ...options.HostConfig },
  });
  try {
    await container.start();
    const { StatusCode } = (await container.wait()) as { StatusCode: number };
    const logs = (await container.logs({ stdout: true, stderr: true })) as Buffer;
    // Multiplexed frames: an 8-byte header before each chunk.
    let output = '';
    for (let i = 0; i + 8 <= logs.length; ) {
      const size = logs.readUInt32BE(i + 4);
      output += logs.subarray(i + 8, i + 8 + size).toString('utf8');
      i += 8 + size;
    }
    return { code: StatusCode, output };
  } finally {
    await container.remove({ force: true });
  }
}

describe('docker/ images built offline (real dockerd)', { skip: use.skip }, () => {
  let docker: Docker;
  let dirs: SandboxDirs;
  const sessions: SandboxSession[] = [];

  before(async () => {
    docker = use.engine!.docker;
    dirs = await sandboxDirs('forge-img-');
  });
  after(async () => {
    for (const s of sessions) await s.destroy();
    await dirs?.cleanup();
  });

  test('Dockerfile.agent: the four CLIs at their pinned versions, run as uid 1000 in the sandbox', async () => {
    const image = await ensureAgentImage(docker);
    const info = await docker.getImage(image).inspect();
    assert.equal(info.Config.User, '1000:1000');
    assert.ok(info.Config.Env.includes('HOME=/home/agent'));
    const sandbox = new DockerSandbox({
      docker,
      image,
      workerId: `it-images-${randomBytes(3).toString('hex')}`,
      scratchRoot: dirs.scratchRoot,
      limits: { memoryMb: 1024, pids: 256 },
    });
    const session = await sandbox.create(await dirs.spec('agent-image'));
    sessions.push(session);
    const lines = collectLines();
    const script = [
      'echo "uid=$(id -u) user=$(id -un) home=$HOME"',
      'for tool in node git rg; do command -v $tool >/dev/null && echo "have $tool"; done',
      'for cli in claude codex gemini opencode; do echo "== $cli $(command -v $cli)"; $cli --version 2>&1 | head -n 3; done',
    ].join('; ');
    const result = await session.exec(['sh', '-c', script], { timeoutMs: 120_000, onLine: lines.onLine });
    const out = lines.all.map((l) => l.line).join('\n');
    assert.equal(result.exitCode, 0, out);
    assert.match(out, /uid=1000 user=agent home=\/home\/agent/);
    for (const tool of ['node', 'git', 'rg']) assert.match(out, new RegExp(`have ${tool}`));
    const pins = cliPins();
    for (const [cli, pkg] of Object.entries(CLI_PACKAGES)) {
      const version = pins[pkg];
      assert.ok(version, `${pkg} is pinned`);
      const section = out.split(`== ${cli} `)[1]?.split('\n== ')[0] ?? '';
      assert.match(section, new RegExp(`^/usr/local/bin/${cli}\\n`), `${cli} on PATH`);
      assert.ok(section.includes(version), `${cli} --version shows ${version}:\n${section}`);
    }
  });

  test('docker/Dockerfile: Forge runs as uid 1000 and reports a config error naming the key', async () => {
    const image = await ensureForgeImage(docker);
    const info = await docker.getImage(image).inspect();
    assert.equal(info.Config.User, '1000:1000');
    assert.deepEqual(info.Config.Cmd, ['node', 'dist/src/main.js']);
    const { code, output } = await runToEnd(docker, {
      Image: image,
      Env: [
        'APP_ID=1',
        'PRIVATE_KEY=not-a-real-key',
        'WEBHOOK_SECRET=not-a-secret',
        'FORGE_CONCURRENCY=banana',
      ],
    });
    assert.equal(code, 78, output);
    assert.match(output, /Forge configuration is invalid/);
    assert.match(output, /FORGE_CONCURRENCY: expected a whole number/);
    // Only production dependencies made it into the image, and git is there for host-side work.
    const check = await runToEnd(docker, {
      Image: image,
      Cmd: [
        'sh',
        '-c',
        'id -u; git --version; test -d node_modules/typescript && echo has-dev || echo prod-only',
      ],
    });
    assert.equal(check.code, 0, check.output);
    assert.match(check.output, /^1000\n/);
    assert.match(check.output, /git version/);
    assert.match(check.output, /prod-only/);
  });
});
