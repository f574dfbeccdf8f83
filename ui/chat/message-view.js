// One chat message in the DOM: an <article> labelled by its author ("You", "Assistant"),
// the content as Markdown (assistant) or plain text (user), the reasoning in a collapsible
// <details>, tool calls as their own blocks, and a footer with statistics and actions.
import { copyText, renderMarkdown } from './markdown.js';

const AUTHORS = { user: 'You', assistant: 'Assistant', system: 'System', tool: 'Tool' };
let serial = 0;

function button(label, className, onClick, ariaLabel) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = label;
  if (ariaLabel) b.setAttribute('aria-label', ariaLabel);
  b.addEventListener('click', onClick);
  return b;
}

// actions: { edit(index), branch(index), regenerate() } ; `last` marks the newest reply.
export function messageElement(message, index, actions, { last = false, streaming = false } = {}) {
  const article = document.createElement('article');
  article.className = `message ${message.role}`;
  article.dataset.index = String(index);
  const author = document.createElement('h3');
  author.className = 'author';
  author.id = `author-${++serial}`;
  author.textContent = AUTHORS[message.role] ?? message.role;
  article.setAttribute('aria-labelledby', author.id);
  article.append(author);

  const reasoning = document.createElement('details');
  reasoning.className = 'reasoning';
  const summary = document.createElement('summary');
  summary.textContent = 'Reasoning';
  const reasoningText = document.createElement('div');
  reasoningText.className = 'reasoning-text';
  reasoning.append(summary, reasoningText);

  const tools = document.createElement('div');
  tools.className = 'tool-calls';
  const body = document.createElement('div');
  body.className = 'content';
  const footer = document.createElement('footer');
  footer.className = 'message-footer';
  article.append(reasoning, tools, body, footer);

  const view = {
    element: article,
    // Redraws the parts that streaming changes.
    update(m, { done = false } = {}) {
      const thought = (m.reasoning ?? '') + (m.inlineReasoning ?? '');
      reasoning.hidden = !thought.trim();
      if (thought.trim()) {
        reasoningText.textContent = thought.trim();
        summary.textContent = !done && !m.content ? 'Reasoning…' : 'Reasoning';
      }
      tools.replaceChildren(...(m.tool_calls ?? []).filter(Boolean).map(toolCallElement));
      if (m.role !== 'assistant') body.textContent = m.content ?? '';
      else if (!done && !m.content && !thought.trim() && !(m.tool_calls ?? []).length) {
        // The prompt is still being evaluated: say so rather than show an empty bubble.
        body.innerHTML = '<p class="waiting">Reading the conversation…</p>';
      } else renderMarkdown(body, m.content ?? '');
    },
    setFooter(m, { isLast }) {
      footer.replaceChildren();
      const stats = document.createElement('span');
      stats.className = 'stats';
      const parts = [];
      if (m.stats) {
        parts.push(`${m.stats.tokens} tokens`);
        if (m.stats.tokens_per_second) parts.push(`${m.stats.tokens_per_second.toFixed(1)} tokens/s`);
      }
      stats.textContent = parts.join(' · ');
      footer.append(stats);
      if (m.stopped) footer.append(badge('stopped', 'Stopped by you before the end'));
      else if (m.finish === 'length') footer.append(badge('length limit', 'Ended at the token limit'));
      const who = AUTHORS[m.role] ?? m.role;
      const n = index + 1;
      if (m.role === 'user') {
        footer.append(button('Edit', 'msg-action', () => actions.edit(index), `Edit message ${n}`));
      } else {
        footer.append(button('Copy', 'msg-action', (e) => copyText(m.content ?? '', e.currentTarget),
          `Copy message ${n}`));
      }
      footer.append(button('Branch', 'msg-action', () => actions.branch(index),
        `Branch a new conversation at message ${n} (${who})`));
      if (isLast && m.role === 'assistant') {
        footer.append(button('Regenerate', 'msg-action', () => actions.regenerate(), 'Regenerate the last reply'));
      }
    },
  };
  view.update(message, { done: !streaming });
  if (!streaming) view.setFooter(message, { isLast: last });
  return view;
}

function badge(text, title) {
  const b = document.createElement('span');
  b.className = `badge badge-${text.replace(/\s+/g, '-')}`;
  b.textContent = text;
  b.title = title;
  return b;
}

function toolCallElement(call) {
  const box = document.createElement('div');
  box.className = 'tool-call';
  box.setAttribute('role', 'group');
  const head = document.createElement('div');
  head.className = 'tool-call-head';
  head.textContent = `Tool call: ${call.function?.name || '(unnamed)'}`;
  box.setAttribute('aria-label', head.textContent);
  const args = document.createElement('pre');
  let text = call.function?.arguments ?? '';
  try {
    text = JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    // Still streaming or not JSON: shown as it came.
  }
  args.textContent = text;
  box.append(head, args);
  return box;
}

// The inline editor that replaces a user message's text while it is edited.
export function editBox(text, { onSave, onCancel }) {
  const form = document.createElement('form');
  form.className = 'edit-box';
  const area = document.createElement('textarea');
  area.value = text;
  area.rows = Math.min(10, Math.max(2, text.split('\n').length));
  area.setAttribute('aria-label', 'Edit the message');
  const save = document.createElement('button');
  save.type = 'submit';
  save.className = 'primary';
  save.textContent = 'Save and send';
  const cancel = button('Cancel', '', onCancel);
  form.append(area, save, cancel);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (area.value.trim()) onSave(area.value);
  });
  area.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { e.preventDefault(); onCancel(); }
  });
  setTimeout(() => area.focus(), 0);
  return form;
}
