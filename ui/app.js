// Entry point: tabs, model information, and the two views.
import { getJson } from './api.js';
import { setupChat } from './chat/chat.js';
import { setupCompletion } from './editor/completion.js';

const state = { nCtx: 0, onPropsLoaded: [] };

function setupTabs() {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  function select(tab) {
    for (const other of tabs) {
      const selected = other === tab;
      other.setAttribute('aria-selected', String(selected));
      other.tabIndex = selected ? 0 : -1;
      document.getElementById(other.getAttribute('aria-controls')).hidden = !selected;
    }
    tab.focus();
  }
  tabs.forEach((tab, index) => {
    tab.addEventListener('click', () => select(tab));
    tab.addEventListener('keydown', (event) => {
      // The WAI-ARIA tabs pattern: arrows move to the neighbour, Home/End to the ends.
      const step = event.key === 'ArrowRight' ? 1 : event.key === 'ArrowLeft' ? -1 : 0;
      if (step) select(tabs[(index + step + tabs.length) % tabs.length]);
      else if (event.key === 'Home') select(tabs[0]);
      else if (event.key === 'End') select(tabs[tabs.length - 1]);
      else return;
      event.preventDefault();
    });
  });
}

function formatBytes(n) {
  if (!Number.isFinite(n)) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i ? 1 : 0)} ${units[i]}`;
}

// The quantization as the file names it (general.file_type, e.g. "Q4_K_M"); a file without
// that key gets the type holding most of its weight bytes, said to be such. Average bits per
// weight follow in both cases.
function quantization(meta, label) {
  const bits = meta.size > 0 && meta.n_params > 0 ? `${((meta.size * 8) / meta.n_params).toFixed(2)} bits per weight` : '';
  const fileType = meta['general.file_type'];
  let name = '';
  if (label && Number.isInteger(fileType)) name = `${label} (general.file_type ${fileType})`;
  else if (label) name = `${label} (most weight bytes; the file has no general.file_type)`;
  return [name, bits].filter(Boolean).join(', ') || undefined;
}

async function loadModelInfo() {
  const [props, models] = await Promise.all([getJson('/props'), getJson('/v1/models')]);
  const model = models.data?.[0] ?? {};
  const meta = model.meta ?? {};
  state.nCtx = props.default_generation_settings?.n_ctx ?? meta.n_ctx ?? 0;
  document.getElementById('model-name').textContent = props.model_alias || model.id || meta['general.name'] || '';
  const rows = [
    ['Name', meta['general.name'] || model.id],
    ['File', props.model_path],
    ['Architecture', meta['general.architecture']],
    ['Size label', meta['general.size_label']],
    ['Parameters', meta.n_params?.toLocaleString('en')],
    ['Size', formatBytes(meta.size)],
    ['Quantization', quantization(meta, models.models?.[0]?.details?.quantization_level)],
    ['Context (slot)', state.nCtx],
    ['Trained context', meta.n_ctx_train],
    ['Vocabulary', meta.n_vocab],
    ['Embedding width', meta.n_embd],
    ['Slots', props.total_slots],
    ['Chat template', props.chat_template ? 'from the model file' : undefined],
    ['License', meta['general.license']],
  ];
  const list = document.getElementById('model-info');
  list.replaceChildren();
  for (const [label, value] of rows) {
    if (value === undefined || value === null || value === '') continue;
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = String(value);
    list.append(dt, dd);
  }
  for (const callback of state.onPropsLoaded) callback();
}

setupTabs();
setupCompletion(state);
setupChat().catch((err) => {
  document.getElementById('chat-list-status').textContent = `Chat unavailable: ${err.message}`;
});
loadModelInfo().catch((err) => {
  document.getElementById('model-name').textContent = `(model info unavailable: ${err.message})`;
});
