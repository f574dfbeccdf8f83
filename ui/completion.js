// The completion editor: the whole text area is the prompt and the model continues it in
// place. Undo/redo move between completion points (the text before and after each
// generation), not between keystrokes.
import { postJson, streamEvents } from './api.js';
import { load, save } from './storage.js';

const DEFAULTS = {
  temperature: 0.8, n_predict: 256, stop: '', top_k: 40, top_p: 0.95, min_p: 0.05,
  repeat_penalty: 1.0, seed: -1,
};
const SETTINGS_KEY = 'mmojo.completion.settings';
const SNAPSHOTS_KEY = 'mmojo.completion.snapshots';
const TEXT_KEY = 'mmojo.completion.text';

const $ = (id) => document.getElementById(id);

export function setupCompletion(state) {
  const editor = $('editor');
  const buttons = {
    generate: $('generate'), stop: $('stop'), undo: $('undo'), redo: $('redo'),
  };
  const status = $('completion-status');
  let settings = { ...DEFAULTS };
  const stored = load(SETTINGS_KEY, {});
  for (const name of Object.keys(DEFAULTS)) {
    if (stored && stored[name] !== undefined) settings[name] = parseSetting(name, String(stored[name]));
  }
  let controller = null;
  const points = [];  // completion points: texts before and after each generation
  let position = -1;

  editor.value = load(TEXT_KEY, '');

  // Settings panel
  for (const name of Object.keys(DEFAULTS)) {
    const input = $(`set-${name}`);
    input.value = settings[name];
    // 'input' keeps the value current even when Generate is pressed before the field
    // loses focus; an empty or unfinished number ("", "-", "1e") means the default.
    input.addEventListener('input', () => {
      settings[name] = name === 'stop' ? input.value : parseSetting(name, input.value);
      save(SETTINGS_KEY, settings);
    });
  }
  $('reset-settings').addEventListener('click', () => {
    settings = { ...DEFAULTS };
    save(SETTINGS_KEY, settings);
    for (const name of Object.keys(DEFAULTS)) $(`set-${name}`).value = settings[name];
  });
  togglePanel('toggle-settings', 'settings');
  togglePanel('toggle-snapshots', 'snapshots');

  function updateButtons() {
    const running = controller !== null;
    buttons.generate.disabled = running;
    buttons.stop.disabled = !running;
    buttons.undo.disabled = running || position <= 0;
    buttons.redo.disabled = running || position >= points.length - 1;
    editor.readOnly = running;
  }

  function addPoint(text) {
    if (position >= 0 && points[position] === text) return;
    points.splice(position + 1);
    points.push(text);
    position = points.length - 1;
  }

  async function generate() {
    if (controller) return;
    addPoint(editor.value);
    controller = new AbortController();
    updateButtons();
    status.textContent = 'Generating…';
    // Comma-separated; "\n" in a stop word stands for a new line.
    const stop = settings.stop.split(',').map((s) => s.trim().replaceAll('\\n', '\n')).filter(Boolean);
    const body = {
      prompt: editor.value, stream: true, n_predict: settings.n_predict,
      temperature: settings.temperature, top_k: settings.top_k, top_p: settings.top_p,
      min_p: settings.min_p, repeat_penalty: settings.repeat_penalty, seed: settings.seed,
      cache_prompt: true,
    };
    if (stop.length) body.stop = stop;
    let produced = 0;
    try {
      await streamEvents('/completion', body, (event) => {
        if (event.content) {
          editor.value += event.content;
          editor.scrollTop = editor.scrollHeight;
          produced += 1;
        }
        // Live count while streaming: the prompt (with BOS) plus the tokens made so far.
        if (Number.isFinite(event.tokens_evaluated) && Number.isFinite(event.tokens_predicted)) {
          showCount(event.tokens_evaluated + event.tokens_predicted);
        }
        if (event.stop && event.timings) {
          status.textContent = `${event.tokens_predicted ?? produced} tokens, ` +
            `${event.timings.predicted_per_second?.toFixed(1) ?? '?'} tokens/s`;
        }
      }, controller.signal);
      if (controller.signal.aborted) status.textContent = `Stopped after ${produced} tokens.`;
    } catch (err) {
      status.textContent = `Error: ${err.message}`;
    } finally {
      controller = null;
      addPoint(editor.value);
      save(TEXT_KEY, editor.value);
      updateButtons();
      countTokens();
    }
  }

  buttons.generate.addEventListener('click', generate);
  buttons.stop.addEventListener('click', () => controller?.abort());
  buttons.undo.addEventListener('click', () => {
    if (position <= 0) return;
    // Unsaved edits since the last point become a point, so undo never loses them.
    if (editor.value !== points[position]) addPoint(editor.value);
    position -= 1;
    editor.value = points[position];
    updateButtons();
    countTokens();
  });
  buttons.redo.addEventListener('click', () => {
    if (position >= points.length - 1) return;
    position += 1;
    editor.value = points[position];
    updateButtons();
    countTokens();
  });
  editor.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      generate();
    }
  });
  $('copy-all').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(editor.value);
      status.textContent = 'Copied.';
    } catch {
      editor.select();
      status.textContent = 'Select-all done; press Ctrl+C to copy.';
    }
  });

  // Live token count against the context size.
  function showCount(n) {
    const nCtx = state.nCtx ? ` / ${state.nCtx}` : '';
    $('token-count').textContent = `${n}${nCtx} tokens`;
  }

  // Answers can arrive out of order: only the latest request may write the count.
  let countTimer = null;
  let countSerial = 0;
  async function countTokens() {
    const serial = ++countSerial;
    try {
      const result = await postJson('/tokenize', { content: editor.value, add_special: true });
      if (serial !== countSerial) return;
      showCount(result.tokens.length);
    } catch {
      if (serial === countSerial) $('token-count').textContent = '';
    }
  }
  editor.addEventListener('input', () => {
    save(TEXT_KEY, editor.value);
    clearTimeout(countTimer);
    countTimer = setTimeout(countTokens, 300);
  });
  state.onPropsLoaded.push(countTokens);

  setupSnapshots(editor, status, () => countTokens());
  updateButtons();
}

// A setting's value from its text field: numbers must be finite (NaN would be sent as null
// and the server rejects it), integers stay integers; anything else gives the default.
function parseSetting(name, text) {
  if (name === 'stop') return text;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) return DEFAULTS[name];
  return ['n_predict', 'top_k', 'seed'].includes(name) ? Math.trunc(value) : value;
}

function togglePanel(buttonId, panelId) {
  const button = $(buttonId);
  const panel = $(panelId);
  button.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    button.setAttribute('aria-expanded', String(!panel.hidden));
  });
}

function setupSnapshots(editor, status, afterRestore) {
  const list = $('snapshot-list');
  let snapshots = load(SNAPSHOTS_KEY, []);
  if (!Array.isArray(snapshots)) snapshots = [];

  function render() {
    list.replaceChildren();
    for (const [index, snapshot] of snapshots.entries()) {
      const item = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = snapshot.name;
      name.title = new Date(snapshot.saved).toLocaleString();
      const restore = document.createElement('button');
      restore.textContent = 'Restore';
      restore.setAttribute('aria-label', `Restore snapshot ${snapshot.name}`);
      restore.addEventListener('click', () => {
        editor.value = snapshot.text;
        status.textContent = `Restored “${snapshot.name}”.`;
        afterRestore();
      });
      const remove = document.createElement('button');
      remove.textContent = 'Delete';
      remove.setAttribute('aria-label', `Delete snapshot ${snapshot.name}`);
      remove.addEventListener('click', () => {
        snapshots.splice(index, 1);
        save(SNAPSHOTS_KEY, snapshots);
        render();
      });
      item.append(name, restore, remove);
      list.append(item);
    }
  }

  $('snapshot-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('snapshot-name').value.trim();
    if (!name) return;
    snapshots = snapshots.filter((s) => s.name !== name);
    snapshots.push({ name, text: editor.value, saved: Date.now() });
    save(SNAPSHOTS_KEY, snapshots);
    $('snapshot-name').value = '';
    render();
  });
  render();
}
