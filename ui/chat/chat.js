// The chat view: conversations kept in IndexedDB (list, switch, rename, delete, import and
// export as JSON), streamed replies from /v1/chat/completions rendered as Markdown, edit /
// regenerate / branch, per-conversation sampler settings and system prompt. A failed
// request shows an error with Retry and adds nothing to the history; a reply the user
// stopped is kept and marked "stopped".
import { streamEvents } from '../api.js';
import { load, save } from '../storage.js';
import { editBox, messageElement } from './message-view.js';
import { applyChunk, finishReply, newReply, toApiMessage } from './reply.js';
import { newId, openStore, parseImport } from './store.js';

const $ = (id) => document.getElementById(id);
export const CHAT_DEFAULTS = {
  system: '', temperature: 0.8, top_k: 40, top_p: 0.95, min_p: 0.05, max_tokens: -1, seed: -1,
};
const CURRENT_KEY = 'mmojo.chat.current';

function blankConversation() {
  const now = Date.now();
  return { id: newId(), title: 'New chat', created: now, updated: now, settings: { ...CHAT_DEFAULTS }, messages: [] };
}

function numberSetting(name, text) {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) return CHAT_DEFAULTS[name];
  return ['top_k', 'max_tokens', 'seed'].includes(name) ? Math.trunc(value) : value;
}

export async function setupChat() {
  const store = await openStore();
  const box = $('messages');
  const input = $('chat-input');
  const list = $('conversation-list');
  const announce = $('chat-announce');
  const errorBox = $('chat-error');
  let conversation = null;
  let views = [];
  let controller = null;
  let retry = null;

  if (!store.persistent) $('chat-storage-note').hidden = false;

  // ---- conversations ----------------------------------------------------------------
  async function persist() {
    conversation.updated = Date.now();
    await store.put(conversation);
    await renderList();
  }

  async function renderList() {
    const all = await store.list();
    list.replaceChildren();
    for (const c of all) {
      const item = document.createElement('li');
      item.className = 'conversation';
      const open = document.createElement('button');
      open.type = 'button';
      open.className = 'conversation-open';
      open.textContent = c.title;
      if (conversation && c.id === conversation.id) open.setAttribute('aria-current', 'true');
      open.addEventListener('click', () => switchTo(c.id));
      const rename = document.createElement('button');
      rename.type = 'button';
      rename.textContent = 'Rename';
      rename.setAttribute('aria-label', `Rename ${c.title}`);
      rename.addEventListener('click', () => startRename(item, c));
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = 'Delete';
      remove.setAttribute('aria-label', `Delete ${c.title}`);
      remove.addEventListener('click', () => removeConversation(c));
      item.append(open, rename, remove);
      list.append(item);
    }
  }

  function startRename(item, c) {
    const field = document.createElement('input');
    field.type = 'text';
    field.value = c.title;
    field.setAttribute('aria-label', 'New name');
    const finish = async (keep) => {
      if (keep && field.value.trim()) {
        const stored = c.id === conversation.id ? conversation : await store.get(c.id);
        stored.title = field.value.trim();
        await store.put(stored);
        if (stored === conversation) $('chat-title').textContent = stored.title;
      }
      await renderList();
    };
    field.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); finish(true); }
      if (e.key === 'Escape') { e.preventDefault(); finish(false); }
    });
    field.addEventListener('blur', () => finish(true), { once: true });
    item.replaceChildren(field);
    field.focus();
    field.select();
  }

  async function removeConversation(c) {
    if (!window.confirm(`Delete the conversation “${c.title}”?`)) return;
    await store.remove(c.id);
    if (conversation && c.id === conversation.id) {
      controller?.abort();
      const rest = await store.list();
      await show(rest[0] ?? blankConversation());
    }
    await renderList();
  }

  async function switchTo(id) {
    if (controller) controller.abort();
    const c = await store.get(id);
    if (c) await show(c);
    closeConversationsOnPhone();
  }

  async function show(c) {
    conversation = c;
    conversation.settings = { ...CHAT_DEFAULTS, ...conversation.settings };
    save(CURRENT_KEY, c.id);
    $('chat-title').textContent = c.title;
    hideError();
    fillSettings();
    renderMessages();
    await renderList();
  }

  // ---- settings ----------------------------------------------------------------------
  function fillSettings() {
    for (const name of Object.keys(CHAT_DEFAULTS)) $(`chat-set-${name}`).value = conversation.settings[name];
  }
  for (const name of Object.keys(CHAT_DEFAULTS)) {
    const field = $(`chat-set-${name}`);
    field.addEventListener('input', () => {
      conversation.settings[name] = name === 'system' ? field.value : numberSetting(name, field.value);
    });
    field.addEventListener('change', () => { if (conversation.messages.length) persist(); });
  }
  $('chat-reset-settings').addEventListener('click', () => {
    conversation.settings = { ...CHAT_DEFAULTS };
    fillSettings();
    if (conversation.messages.length) persist();
  });

  // ---- messages ----------------------------------------------------------------------
  const actions = {
    edit: (index) => startEdit(index),
    branch: (index) => branch(index),
    regenerate: () => regenerate(),
  };

  function renderMessages() {
    views = conversation.messages.map((m, i) => messageElement(m, i, actions,
      { last: i === conversation.messages.length - 1 }));
    box.replaceChildren(...views.map((v) => v.element));
    $('chat-empty').hidden = conversation.messages.length > 0;
    scrollToNewest();
    updateButtons();
  }

  // The newest message is brought into view: inside the list on a wide screen, and in the
  // page on a phone, where the page scrolls as a whole.
  function scrollToNewest() {
    const lastView = views[views.length - 1];
    box.scrollTop = box.scrollHeight;
    lastView?.element.scrollIntoView({ block: 'end', behavior: 'instant' });
  }

  function updateButtons() {
    const running = controller !== null;
    $('send').disabled = running;
    $('chat-stop').disabled = !running;
    for (const b of box.querySelectorAll('.msg-action')) b.disabled = running;
  }

  function showError(message, again) {
    $('chat-error-text').textContent = message;
    errorBox.hidden = false;
    retry = again;
  }
  function hideError() {
    errorBox.hidden = true;
    retry = null;
  }
  $('chat-retry').addEventListener('click', () => { const again = retry; hideError(); again?.(); });

  async function respond() {
    hideError();
    // The conversation this reply belongs to, even if the user switches away meanwhile.
    const target = conversation;
    const s = target.settings;
    const messages = [];
    if (s.system.trim()) messages.push({ role: 'system', content: s.system });
    messages.push(...target.messages.map(toApiMessage));
    const body = {
      messages, stream: true, cache_prompt: true, temperature: s.temperature, top_k: s.top_k,
      top_p: s.top_p, min_p: s.min_p, seed: s.seed,
    };
    if (s.max_tokens > 0) body.max_tokens = s.max_tokens;
    const reply = newReply();
    const view = messageElement(reply, target.messages.length, actions, { streaming: true });
    view.element.classList.add('streaming');
    view.element.setAttribute('aria-busy', 'true');
    box.append(view.element);
    $('chat-empty').hidden = true;
    scrollToNewest();
    controller = new AbortController();
    const signal = controller.signal;
    updateButtons();
    // Screen readers hear that a reply started and, at the end, the reply: not every token.
    announce.textContent = 'Assistant is replying…';
    const started = performance.now();
    let firstTokenMs = null;
    let chunks = 0;
    let frame = 0;
    try {
      await streamEvents('/v1/chat/completions', body, (event) => {
        applyChunk(reply, event);
        if (event.choices?.[0]?.delta?.content || event.choices?.[0]?.delta?.reasoning_content
            || event.choices?.[0]?.delta?.tool_calls) {
          chunks += 1;
          firstTokenMs ??= performance.now() - started;
        }
        // One redraw per animation frame however fast the tokens come.
        if (!frame) {
          frame = requestAnimationFrame(() => {
            frame = 0;
            view.update(reply);
            scrollToNewest();
          });
        }
      }, signal);
    } catch (err) {
      cancelAnimationFrame(frame);
      view.element.remove();
      controller = null;
      updateButtons();
      if (conversation !== target) return;
      announce.textContent = `Error: ${err.message}`;
      showError(err.message, respond);
      return;
    }
    cancelAnimationFrame(frame);
    const stopped = signal.aborted;
    controller = null;
    if (stopped && !reply.raw && !reply.reasoning && !reply.tool_calls.length) {
      // Stopped before anything arrived: nothing to keep.
      view.element.remove();
      announce.textContent = 'Stopped.';
      updateButtons();
      if (!conversation.messages.length) $('chat-empty').hidden = false;
      return;
    }
    const message = finishReply(reply, { elapsedMs: performance.now() - started, firstTokenMs, chunks, stopped });
    if (conversation !== target) {
      // Switched away (which stopped the reply): keep it with its own conversation, unless
      // that conversation was deleted meanwhile.
      if (await store.get(target.id)) {
        target.messages.push(message);
        target.updated = Date.now();
        await store.put(target);
        await renderList();
      }
      updateButtons();
      return;
    }
    conversation.messages.push(message);
    if (conversation.title === 'New chat') conversation.title = titleFrom(conversation.messages);
    $('chat-title').textContent = conversation.title;
    const reasoningOpen = view.element.querySelector('details.reasoning')?.open;
    await persist();
    renderMessages();
    // Reasoning the user opened while it streamed stays open.
    if (reasoningOpen) views.at(-1).element.querySelector('details.reasoning').open = true;
    announce.textContent = `${stopped ? 'Stopped. ' : ''}Assistant: ${message.content.slice(0, 300)}`;
  }

  function titleFrom(messages) {
    const first = messages.find((m) => m.role === 'user')?.content ?? 'Chat';
    const line = first.split('\n')[0].trim();
    return line.length > 40 ? `${line.slice(0, 40)}…` : line || 'Chat';
  }

  async function send(text) {
    conversation.messages.push({ role: 'user', content: text });
    if (conversation.title === 'New chat') conversation.title = titleFrom(conversation.messages);
    $('chat-title').textContent = conversation.title;
    await persist();
    renderMessages();
    await respond();
  }

  function startEdit(index) {
    if (controller) return;
    const view = views[index];
    const m = conversation.messages[index];
    const content = view.element.querySelector('.content');
    const form = editBox(m.content, {
      onSave: async (text) => {
        // The edited message replaces the old one and everything after it is answered anew.
        conversation.messages.splice(index);
        await send(text);
      },
      onCancel: () => renderMessages(),
    });
    content.replaceChildren(form);
  }

  async function branch(index) {
    if (controller) return;
    const copy = blankConversation();
    copy.title = `${conversation.title} (branch)`;
    copy.settings = { ...conversation.settings };
    copy.messages = JSON.parse(JSON.stringify(conversation.messages.slice(0, index + 1)));
    await store.put(copy);
    await show(copy);
  }

  async function regenerate() {
    if (controller) return;
    while (conversation.messages.length && conversation.messages.at(-1).role === 'assistant') {
      conversation.messages.pop();
    }
    await persist();
    renderMessages();
    await respond();
  }

  // ---- form, buttons, import/export ---------------------------------------------------
  $('chat-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text || controller) return;
    input.value = '';
    send(text);
  });
  input.addEventListener('keydown', (event) => {
    // Not while an input method is composing: its Enter confirms the composition.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $('chat-form').requestSubmit();
    }
    if (event.key === 'Escape' && controller) controller.abort();
  });
  $('chat-stop').addEventListener('click', () => controller?.abort());
  $('new-chat').addEventListener('click', async () => {
    controller?.abort();
    await show(blankConversation());
    closeConversationsOnPhone();
    input.focus();
  });
  $('export-chats').addEventListener('click', async () => {
    const data = { format: 'mmojo-conversations', version: 1, conversations: await store.list() };
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
    const link = document.createElement('a');
    link.href = url;
    link.download = `mmojo-conversations-${new Date().toISOString().slice(0, 10)}.json`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  });
  $('import-chats').addEventListener('change', async (event) => {
    const file = event.target.files?.[0];
    event.target.value = '';
    if (!file) return;
    try {
      const imported = parseImport(await file.text());
      for (const c of imported) await store.put(c);
      await show(imported[0]);
      $('chat-list-status').textContent = `Imported ${imported.length} conversation(s).`;
    } catch (err) {
      $('chat-list-status').textContent = `Import failed: ${err.message}`;
    }
  });
  const toggle = $('toggle-conversations');
  toggle.addEventListener('click', () => {
    const panel = $('conversations');
    const open = panel.classList.toggle('open');
    toggle.setAttribute('aria-expanded', String(open));
  });
  function closeConversationsOnPhone() {
    $('conversations').classList.remove('open');
    toggle.setAttribute('aria-expanded', 'false');
  }
  const settingsToggle = $('toggle-chat-settings');
  settingsToggle.addEventListener('click', () => {
    const panel = $('chat-settings');
    panel.hidden = !panel.hidden;
    settingsToggle.setAttribute('aria-expanded', String(!panel.hidden));
  });

  // Start with the conversation used last (or a new one; it is stored once it has a message).
  const last = load(CURRENT_KEY, null);
  const first = (last && await store.get(last)) || (await store.list())[0] || blankConversation();
  await show(first);
  document.body.dataset.chatReady = 'true';  // the controls answer from here on (tests wait for it)
}
