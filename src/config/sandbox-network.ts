/**
 * Cross-checks of the Docker sandbox's network against the model gateway: a configuration in which
 * no agent could ever reach its model is refused at start-up, naming the key to change, instead of
 * failing every turn with a connection error inside the container.
 */

/** Agents that talk to a model (everything but the operator's own `command`). */
const MODEL_AGENTS = ['claude-code', 'codex', 'gemini', 'opencode'];

export interface SandboxNetworkSettings {
  role: string;
  sandbox: string;
  sandboxNetwork: string;
  allowedAgents: readonly string[];
  gatewayUrl?: string | undefined;
}

export function sandboxNetworkProblems(s: SandboxNetworkSettings): string[] {
  if (s.role === 'web' || s.sandbox !== 'docker' || s.sandboxNetwork === 'host') return [];
  const agents = s.allowedAgents.filter((a) => MODEL_AGENTS.includes(a));
  if (!agents.length) return [];
  const which = agents.map((a) => `\`${a}\``).join(', ');
  if (s.sandboxNetwork === 'none') {
    return [
      `FORGE_SANDBOX_NETWORK: \`none\` gives agent containers no network, so the ${which} agent(s) could never reach the model gateway; name an internal Docker network the worker is on and set FORGE_GATEWAY_URL to the worker's address there (docs/gateway.md, "Running it in production")`,
    ];
  }
  if (!s.gatewayUrl) {
    return [
      `FORGE_GATEWAY_URL: required with FORGE_SANDBOX_NETWORK=${s.sandboxNetwork}: the worker's address on that network (such as http://172.30.0.2:8089), because a container's 127.0.0.1 is its own, not the worker's`,
    ];
  }
  return [];
}
