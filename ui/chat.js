// The chat view: /v1/chat/completions with streaming. Model output is shown as text only
// (never parsed as HTML); fenced code blocks keep their layout in <pre><code>.
import { streamEvents } from './api.js';
import { load, save } from './storage.js';

const SYSTEM_KEY = 'mmojo.chat.system';
const $ = (id) => document.getElementById(id);

export function setupChat() {
  const messagesBox = $('messages');
  const input = $('chat-input');
  const system = $('system-prompt');
  const buttons = { send: $('send'), stop: $('chat-stop'), regenerate: $('regenerate') };
  let history = [];  // [{role, content}]
  let controller = null;

  system.value = load(SYSTEM_KEY, '');
  system.addEventListener('change', () => save(SYSTEM_KEY, system.value));

  function updateButtons() {
    const running = controller !== null;
    buttons.send.disabled = running;
    buttons.stop.disabled = !running;
    buttons.regenerate.disabled = running || !history.some((m) => m.role === 'assistant');
  }

  function renderAll() {
    messagesBox.replaceChildren(...history.map((m) => messageElement(m.role, m.content)));
    messagesBox.scrollTop = messagesBox.scrollHeight;
  }

  async function respond() {
    const messages = [];
    if (system.value.trim()) messages.push({ role: 'system', content: system.value });
    messages.push(...history);
    const reply = { role: 'assistant', content: '' };
    history.push(reply);
    const element = messageElement('assistant', '');
    messagesBox.append(element);
    controller = new AbortController();
    updateButtons();
    try {
      await streamEvents('/v1/chat/completions', { messages, stream: true }, (event) => {
        const delta = event.choices?.[0]?.delta?.content;
        if (delta) {
          reply.content += delta;
          fillMessage(element, reply.content);
          messagesBox.scrollTop = messagesBox.scrollHeight;
        }
      }, controller.signal);
    } catch (err) {
      reply.content += `\n[error: ${err.message}]`;
      fillMessage(element, reply.content);
    } finally {
      controller = null;
      updateButtons();
    }
  }

  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || controller) return;
    history.push({ role: 'user', content: text });
    input.value = '';
    renderAll();
    respond();
  });
  input.addEventListener('keydown', (event) => {
    // Not while an input method is composing: its Enter confirms the composition.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $('chat-form').requestSubmit();
    }
  });
  buttons.stop.addEventListener('click', () => controller?.abort());
  buttons.regenerate.addEventListener('click', () => {
    if (controller) return;
    while (history.length && history[history.length - 1].role === 'assistant') history.pop();
    renderAll();
    respond();
  });
  $('new-chat').addEventListener('click', () => {
    controller?.abort();
    history = [];
    renderAll();
    updateButtons();
  });
  updateButtons();
}

function messageElement(role, content) {
  const element = document.createElement('div');
  element.className = `message ${role}`;
  element.setAttribute('aria-label', role === 'user' ? 'You' : 'Assistant');
  fillMessage(element, content);
  return element;
}

// Splits on ``` fences: text parts become text nodes, code parts <pre><code>.
function fillMessage(element, content) {
  const parts = content.split('```');
  const nodes = parts.map((part, index) => {
    if (index % 2 === 0) return document.createTextNode(part);
    const pre = document.createElement('pre');
    const code = document.createElement('code');
    const newline = part.indexOf('\n');
    // The first line of a fence may name the language; it is not code.
    code.textContent = newline >= 0 && /^[\w+-]*$/.test(part.slice(0, newline)) ? part.slice(newline + 1) : part;
    pre.append(code);
    return pre;
  });
  element.replaceChildren(...nodes);
}
