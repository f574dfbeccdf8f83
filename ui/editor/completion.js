// The completion editor (Mmojo Completion): the whole text is the prompt and the model
// continues it in place. Keys: Enter completes, Shift+Enter is a new line, Ctrl+Enter
// (Cmd+Enter) adds a new line and completes, Escape stops, Ctrl+Z / Ctrl+Shift+Z (Ctrl+Y)
// move between completion points once the text is unchanged since the last one, and a
// Ctrl-click (Option-click on a Mac) deletes everything after the click.
import { postJson, streamEvents } from '../api.js';
import { load, save } from '../storage.js';
import {
  DEFAULTS, TEMPERATURE_PRESETS, TOKEN_PRESETS, loadSettings, parseSetting, saveSettings,
  settingsFromHash, settingsToHash, stopWords,
} from './settings.js';
import { setupSnapshots } from './snapshots.js';

const TEXT_KEY = 'mmojo.completion.text';
const $ = (id) => document.getElementById(id);
const IS_MAC = /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

export function setupCompletion(state) {
  const editor = $('editor');
  const status = $('completion-status');
  const announce = $('completion-announce');
  const buttons = {
    generate: $('generate'), stop: $('stop'), undo: $('undo'), redo: $('redo'), replay: $('replay'),
  };
  let settings = loadSettings();
  let controller = null;
  let stoppedByUser = false;
  const points = [];  // completion points: the texts before and after each generation
  let position = -1;
  let lastRun = null;  // { prompt, settings } of the last completion, for Replay

  editor.value = load(TEXT_KEY, '');

  // ---- settings: panel fields, toolbar presets, bookmarks ----------------------------
  function showSettings() {
    for (const name of Object.keys(DEFAULTS)) {
      const field = $(`set-${name}`);
      if (field.type === 'checkbox') field.checked = settings[name];
      else field.value = settings[name];
    }
    const temp = $('temp-preset');
    const preset = TEMPERATURE_PRESETS.find(([value]) => value === settings.temperature);
    temp.querySelector('option[data-custom]').textContent = `temperature: ${settings.temperature}`;
    temp.value = preset ? String(preset[0]) : 'custom';
    const tokens = $('tokens-preset');
    tokens.querySelector('option[data-custom]').textContent = `tokens: ${settings.n_predict}`;
    tokens.value = TOKEN_PRESETS.includes(settings.n_predict) ? String(settings.n_predict) : 'custom';
  }
  function setSettings(changes) {
    settings = { ...settings, ...changes };
    saveSettings(settings);
    showSettings();
  }
  for (const name of Object.keys(DEFAULTS)) {
    const field = $(`set-${name}`);
    // 'input' keeps the value current even when Complete is pressed before the field
    // loses focus; an empty or unfinished number ("", "-", "1e") means the default.
    field.addEventListener(field.type === 'checkbox' ? 'change' : 'input', () => {
      settings[name] = field.type === 'checkbox' ? field.checked : parseSetting(name, field.value);
      saveSettings(settings);
      if (name === 'temperature' || name === 'n_predict') showPresetsOnly();
    });
  }
  function showPresetsOnly() {
    const keepFocus = document.activeElement;
    showSettings();
    keepFocus?.focus?.();
  }
  const tempSelect = $('temp-preset');
  for (const [value, name] of TEMPERATURE_PRESETS) tempSelect.add(new Option(`${name} (${value})`, String(value)));
  tempSelect.addEventListener('change', () => {
    if (tempSelect.value !== 'custom') setSettings({ temperature: Number(tempSelect.value) });
  });
  const tokenSelect = $('tokens-preset');
  for (const n of TOKEN_PRESETS) tokenSelect.add(new Option(n < 0 ? 'tokens: complete' : `tokens: ${n}`, String(n)));
  tokenSelect.addEventListener('change', () => {
    if (tokenSelect.value !== 'custom') setSettings({ n_predict: Number(tokenSelect.value) });
  });
  $('reset-settings').addEventListener('click', () => setSettings({ ...DEFAULTS }));
  togglePanel('toggle-settings', 'settings');
  togglePanel('toggle-snapshots', 'snapshots');

  function applyHash() {
    const fromHash = settingsFromHash(location.hash);
    if (Object.keys(fromHash).length) setSettings(fromHash);
  }
  window.addEventListener('hashchange', applyHash);
  applyHash();
  showSettings();
  $('bookmark').addEventListener('click', async () => {
    history.replaceState(null, '', settingsToHash(settings));
    let copied = false;
    try {
      await navigator.clipboard.writeText(location.href);
      copied = true;
    } catch {
      // No clipboard permission: the address bar has it.
    }
    say(`The settings are in the page address now${copied ? ' (copied)' : ''}: bookmark it to keep them.`);
  });

  // ---- status line ------------------------------------------------------------------
  function say(text, { quiet = false } = {}) {
    status.textContent = text;
    // The visible line changes many times a second while generating; the live region only
    // at the start and the end, so a screen reader is not flooded.
    if (!quiet) announce.textContent = text;
  }
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
      if (serial === countSerial) showCount(result.tokens.length);
    } catch {
      if (serial === countSerial) $('token-count').textContent = '';
    }
  }
  state.onPropsLoaded.push(countTokens);

  function textChanged() {
    save(TEXT_KEY, editor.value);
    $('print-text').textContent = editor.value;
    clearTimeout(countTimer);
    countTimer = setTimeout(countTokens, 300);
  }

  // ---- completion points (undo / redo) ------------------------------------------------
  function updateButtons() {
    const running = controller !== null;
    buttons.generate.disabled = running;
    buttons.stop.disabled = !running;
    buttons.undo.disabled = running || !canUndo();
    buttons.redo.disabled = running || position >= points.length - 1;
    buttons.replay.disabled = running || lastRun === null;
    editor.readOnly = running;
    editor.setAttribute('aria-busy', String(running));
  }
  const canUndo = () => position > 0 || (position === 0 && editor.value !== points[0]);
  function addPoint(text) {
    if (position >= 0 && points[position] === text) return;
    points.splice(position + 1);
    points.push(text);
    position = points.length - 1;
  }
  function undo() {
    if (!canUndo()) return;
    // Unsaved edits since the last point become a point, so undo never loses them.
    if (editor.value !== points[position]) addPoint(editor.value);
    position -= 1;
    editor.value = points[position];
    textChanged();
    updateButtons();
  }
  function redo() {
    if (position >= points.length - 1) return;
    position += 1;
    editor.value = points[position];
    textChanged();
    updateButtons();
  }

  // ---- generation ---------------------------------------------------------------------
  async function generate({ replay = false } = {}) {
    if (controller) return;
    if (replay && lastRun) {
      addPoint(editor.value);
      editor.value = lastRun.prompt;
    }
    addPoint(editor.value);
    const used = replay && lastRun ? lastRun.settings : { ...settings };
    lastRun = { prompt: editor.value, settings: used };
    controller = new AbortController();
    stoppedByUser = false;
    updateButtons();
    const started = performance.now();
    const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
    let phase = 'Waiting for the server…';
    let produced = 0;
    let final = null;
    say('Completing…');
    const ticker = setInterval(() => say(`${phase} · ${elapsed()}`, { quiet: true }), 100);
    const body = {
      prompt: editor.value, stream: true, n_predict: used.n_predict, temperature: used.temperature,
      top_k: used.top_k, top_p: used.top_p, min_p: used.min_p, repeat_penalty: used.repeat_penalty,
      seed: used.seed, cache_prompt: true, return_progress: true,
    };
    const stop = stopWords(used);
    if (stop.length) body.stop = stop;
    let error = null;
    try {
      await streamEvents('/completion', body, (event) => {
        if (event.prompt_progress) {
          const p = event.prompt_progress;
          phase = `Evaluating ${p.processed}/${p.total}`;
          say(`${phase} · ${elapsed()}`, { quiet: true });
          return;
        }
        if (event.content) {
          editor.value += event.content;
          editor.scrollTop = editor.scrollHeight;
          produced += 1;
        }
        if (Number.isFinite(event.tokens_predicted)) produced = Math.max(produced, event.tokens_predicted);
        phase = `Generating: ${produced} tokens`;
        // Live count while streaming: the prompt (with BOS) plus the tokens made so far.
        if (Number.isFinite(event.tokens_evaluated) && Number.isFinite(event.tokens_predicted)) {
          showCount(event.tokens_evaluated + event.tokens_predicted);
        }
        if (event.stop) final = event;
      }, controller.signal);
    } catch (err) {
      error = err;
    }
    clearInterval(ticker);
    const seconds = elapsed();
    if (error) {
      say(`Error: ${error.message} · ${seconds}`);
    } else if (stoppedByUser || !final) {
      say(`${produced} tokens · ${seconds} · stop: user`);
    } else {
      const reason = final.stop_type === 'word' ? `word “${final.stopping_word}”`
        : final.stop_type === 'none' ? 'limit' : final.stop_type;
      const speed = final.timings?.predicted_per_second;
      say(`${final.tokens_predicted ?? produced} tokens · ${speed ? `${speed.toFixed(1)} tokens/s · ` : ''}` +
        `${seconds} · stop: ${reason}`);
    }
    controller = null;
    addPoint(editor.value);
    textChanged();
    updateButtons();
  }
  function stopGeneration() {
    if (!controller) return;
    stoppedByUser = true;
    controller.abort();
  }

  buttons.generate.addEventListener('click', () => generate());
  buttons.replay.addEventListener('click', () => generate({ replay: true }));
  buttons.stop.addEventListener('click', stopGeneration);
  buttons.undo.addEventListener('click', undo);
  buttons.redo.addEventListener('click', redo);

  editor.addEventListener('keydown', (event) => {
    const mod = event.ctrlKey || event.metaKey;
    if (event.key === 'Escape') {
      if (controller) { event.preventDefault(); stopGeneration(); }
      return;
    }
    if (event.key === 'Enter' && !event.isComposing && !event.shiftKey && !event.altKey) {
      event.preventDefault();
      if (controller) return;
      if (mod) {
        // A new line where the caret is, then complete: chat-like use with a stop word.
        editor.setRangeText('\n', editor.selectionStart, editor.selectionEnd, 'end');
        textChanged();
      }
      generate();
      return;
    }
    const key = event.key.toLowerCase();
    // Undo/redo keys step between completion points, except while the text has edits the
    // browser's own undo can take back (its history ends at the last completion anyway).
    if (mod && !event.altKey && (key === 'z' || key === 'y')) {
      const redoKey = key === 'y' || event.shiftKey;
      const edited = position >= 0 && editor.value !== points[position];
      if (edited && !redoKey) return;
      event.preventDefault();
      if (redoKey) redo(); else undo();
    }
  });
  // Ctrl-click (Option-click on a Mac): everything after the click goes.
  editor.addEventListener('click', (event) => {
    const wanted = IS_MAC ? event.altKey : event.ctrlKey;
    if (!wanted || controller) return;
    const at = editor.selectionStart;
    if (at >= editor.value.length) return;
    addPoint(editor.value);
    editor.value = editor.value.slice(0, at);
    editor.setSelectionRange(at, at);
    addPoint(editor.value);
    textChanged();
    updateButtons();
    say(`Deleted everything after position ${at} (Undo brings it back).`);
  });
  editor.addEventListener('input', () => { textChanged(); updateButtons(); });

  $('copy-all').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(editor.value);
      say('Copied.');
    } catch {
      editor.select();
      say('Selected all; press Ctrl+C to copy.');
    }
  });
  const full = $('fullscreen');
  full.addEventListener('click', async () => {
    const on = !document.body.classList.contains('editor-full');
    document.body.classList.toggle('editor-full', on);
    full.setAttribute('aria-pressed', String(on));
    try {
      if (on && !document.fullscreenElement) await document.documentElement.requestFullscreen?.();
      if (!on && document.fullscreenElement) await document.exitFullscreen();
    } catch {
      // Full screen refused (e.g. an embedded frame): the enlarged layout still applies.
    }
    editor.focus();
  });
  document.addEventListener('fullscreenchange', () => {
    if (!document.fullscreenElement && document.body.classList.contains('editor-full')) {
      document.body.classList.remove('editor-full');
      full.setAttribute('aria-pressed', 'false');
    }
  });

  setupSnapshots({
    getState: () => ({ text: editor.value, settings }),
    restore: (snapshot) => {
      addPoint(editor.value);
      editor.value = snapshot.text;
      addPoint(editor.value);
      if (snapshot.settings) setSettings(Object.fromEntries(Object.keys(DEFAULTS)
        .filter((name) => snapshot.settings[name] !== undefined)
        .map((name) => [name, parseSetting(name, snapshot.settings[name])])));
      textChanged();
      updateButtons();
      say(`Restored “${snapshot.name}” with its settings.`);
    },
    say,
  });
  $('print-text').textContent = editor.value;
  updateButtons();
}

function togglePanel(buttonId, panelId) {
  const button = $(buttonId);
  const panel = $(panelId);
  button.addEventListener('click', () => {
    panel.hidden = !panel.hidden;
    button.setAttribute('aria-expanded', String(!panel.hidden));
  });
}
