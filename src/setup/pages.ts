import type { AppManifest } from './manifest.js';

/** The setup server's pages: plain HTML, no scripts, every interpolated value escaped. */

export function escapeHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

const STYLE = `body{font:16px/1.5 system-ui,sans-serif;max-width:44rem;margin:3rem auto;padding:0 1rem;color:#1f2328}
code,pre{font:14px ui-monospace,monospace;background:#f6f8fa;border-radius:4px;padding:.1rem .3rem}
pre{padding:.75rem;overflow:auto}button{font:inherit;padding:.5rem 1rem;border-radius:6px;border:1px solid #1f883d;background:#1f883d;color:#fff;cursor:pointer}
.warn{border-left:4px solid #bf8700;padding:.25rem .75rem;background:#fff8c5}.bad{border-left:4px solid #cf222e;padding:.25rem .75rem;background:#ffebe9}
input{font:inherit;padding:.25rem}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(title)}</title><style>${STYLE}</style></head>
<body><h1>${escapeHtml(title)}</h1>
${body}
</body></html>
`;
}

function warnings(list: string[]): string {
  return list.map((w) => `<p class="warn">${escapeHtml(w)}</p>`).join('\n');
}

export function landingPage(input: {
  manifest: AppManifest;
  /** The GitHub URL the form posts to, `state` included. */
  action: string;
  org?: string;
  accessKey: string;
  envPath: string;
  warnings: string[];
}): string {
  const m = input.manifest;
  const where = input.org ? `the organization <b>${escapeHtml(input.org)}</b>` : 'your personal account';
  const permissions = Object.entries(m.default_permissions)
    .map(([k, v]) => `<code>${escapeHtml(k)}: ${escapeHtml(v)}</code>`)
    .join(', ');
  const events = m.default_events.map((e) => `<code>${escapeHtml(e)}</code>`).join(', ');
  return page(
    'Set up Forge',
    `<p>Forge has no GitHub App yet. This registers one for ${where} on
<a href="${escapeHtml(new URL(input.action).origin)}">${escapeHtml(new URL(input.action).host)}</a>:</p>
<ol>
<li>The button sends Forge's App manifest to GitHub. GitHub shows it to you; you may change the name (App names are unique on GitHub) and then create the App.</li>
<li>GitHub sends you back here. Forge fetches the new App's id, private key and webhook secret and writes them to <code>${escapeHtml(input.envPath)}</code> (readable only by you).</li>
<li>You install the App on the repositories Forge should work on, and restart Forge (<code>npm start</code>).</li>
</ol>
<p>Webhooks will be delivered to <code>${escapeHtml(m.hook_attributes.url)}</code>.<br>
Permissions: ${permissions}.<br>Events: ${events}.</p>
${warnings(input.warnings)}
<form method="post" action="${escapeHtml(input.action)}">
<input type="hidden" name="manifest" value="${escapeHtml(JSON.stringify(m))}">
<button type="submit">Create the GitHub App on GitHub</button>
</form>
<form method="get" action="/">
<input type="hidden" name="key" value="${escapeHtml(input.accessKey)}">
<p>Register it for an organization instead: <input name="org" placeholder="organization login" pattern="[A-Za-z0-9-]{1,39}" value="${escapeHtml(input.org ?? '')}" aria-label="organization login"> <button type="submit">Use this organization</button></p>
</form>`,
  );
}

export function donePage(input: {
  name: string;
  htmlUrl: string;
  envPath: string;
  written: string[];
  warnings: string[];
}): string {
  const install = `${input.htmlUrl.replace(/\/$/, '')}/installations/new`;
  return page(
    'Forge is registered',
    `<p>The GitHub App <a href="${escapeHtml(input.htmlUrl)}">${escapeHtml(input.name)}</a> exists, and
${input.written.map((k) => `<code>${escapeHtml(k)}</code>`).join(', ')} are in <code>${escapeHtml(input.envPath)}</code>.</p>
${warnings(input.warnings)}
<ol>
<li><a href="${escapeHtml(install)}">Install the App</a> on the repositories Forge should work on.</li>
<li>Restart Forge: stop this process and run <code>npm start</code> again. It reads <code>${escapeHtml(input.envPath)}</code> and starts normally.</li>
</ol>
<p>Keep <code>${escapeHtml(input.envPath)}</code> private: it holds the App's private key. Never commit it.</p>`,
  );
}

export function errorPage(title: string, problem: string, todo: string): string {
  return page(title, `<p class="bad">${escapeHtml(problem)}</p>\n<p>${escapeHtml(todo)}</p>`);
}
