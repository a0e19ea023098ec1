import type { TaskEvent } from '../tasks/store.js';
import type { Task } from '../tasks/types.js';

/** A plain, script-free HTML page with a task's turns and its event log (already redacted). */
export function renderTaskPage(task: Task, events: TaskEvent[]): string {
  const turns = task.turns
    .map(
      (t) =>
        `<li>Turn ${t.n} · ${esc(t.state)} · @${esc(t.requestedBy)} · ${esc(t.instruction.slice(0, 200))}${t.commitSha ? ` · <code>${esc(t.commitSha.slice(0, 7))}</code>` : ''}</li>`,
    )
    .join('');
  const log = events
    .map((e) => `<span class="${esc(e.kind)}">[${esc(e.at.slice(11, 19))} #${e.turn}] ${esc(e.text)}</span>`)
    .join('\n');
  return `<!doctype html><html><head><meta charset="utf-8"><title>Forge task ${esc(task.id)}</title>
<style>body{font:14px system-ui;margin:2em}pre{background:#111;color:#ddd;padding:1em;white-space:pre-wrap}.state{color:#8cf}.note{color:#fc8}</style></head>
<body><h1>Forge task <code>${esc(task.id)}</code></h1>
<p>${esc(task.repo.path)} #${task.issueNumber} · ${esc(task.state)}${task.branch ? ` · branch <code>${esc(task.branch)}</code>` : ''}</p>
<ol>${turns}</ol><h2>Log</h2><pre>${log}</pre></body></html>`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
