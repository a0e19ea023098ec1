import type { Probot } from 'probot';
import type { Handler } from '../../http/server.js';
import { type AcceptDeps, acceptEvent } from '../../intake/accept.js';
import { normalizeGitHubEvent } from './normalize.js';

export const GITHUB_WEBHOOK_PATH = '/api/github/webhooks';

/**
 * GitHub deliveries: Probot (@octokit/webhooks) verifies `X-Hub-Signature-256` and answers 400 on a
 * bad signature before any of this runs; then the shared acceptance path queues the event.
 */
export async function githubWebhookHandler(
  probot: Probot,
  deps: AcceptDeps & { triggerLabel: string },
): Promise<Handler> {
  // Probot sets up its webhooks lazily; getting the middleware initializes them.
  const middleware = await probot.getNodeMiddleware({ path: GITHUB_WEBHOOK_PATH });
  probot.webhooks.onAny(async ({ id, name, payload }) => {
    const event = normalizeGitHubEvent(name, id, payload, { triggerLabel: deps.triggerLabel });
    await acceptEvent(event, deps);
  });
  return async (req, res) => Boolean(await middleware(req, res));
}
