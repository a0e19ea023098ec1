import { createNodeMiddleware, Webhooks } from '@octokit/webhooks';
import type { Logger } from 'pino';
import type { Handler } from '../../http/server.js';
import { type AcceptDeps, acceptEvent } from '../../intake/accept.js';
import { normalizeGitHubEvent } from './normalize.js';

export const GITHUB_WEBHOOK_PATH = '/api/github/webhooks';

/**
 * GitHub deliveries: @octokit/webhooks verifies `X-Hub-Signature-256` (400 on a bad one) before any
 * of this runs; then the shared acceptance path queues the event. Probot's own middleware is not
 * used here: it builds an installation client for every event, work the webhook path never needs.
 */
export function githubWebhookHandler(
  deps: AcceptDeps & {
    secret: string;
    triggerLabel: string;
    repoTriggerLabels?: readonly string[];
    log: Logger;
  },
): Handler {
  const webhooks = new Webhooks({ secret: deps.secret });
  webhooks.onAny(async ({ id, name, payload }) => {
    const event = normalizeGitHubEvent(name, id, payload, {
      triggerLabel: deps.triggerLabel,
      repoTriggerLabels: deps.repoTriggerLabels ?? [],
    });
    await acceptEvent(event, deps);
  });
  webhooks.onError((error) => deps.log.warn({ err: error }, 'webhook handling failed'));
  const middleware = createNodeMiddleware(webhooks, {
    path: GITHUB_WEBHOOK_PATH,
    log: {
      debug: () => undefined,
      info: () => undefined,
      warn: (message: string) => deps.log.warn(message),
      error: (message: string) => deps.log.error(message),
    },
  });
  return async (req, res) => Boolean(await middleware(req, res));
}
