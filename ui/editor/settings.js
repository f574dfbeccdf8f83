// The completion editor's settings: defaults, parsing of the form fields, the toolbar's
// temperature and token presets, and bookmarks (the settings as the URL's #hash, so a
// bookmarked or shared address opens the editor with them).
import { load, save } from '../storage.js';

export const DEFAULTS = {
  temperature: 0.8, n_predict: 256, stop: '', use_stop: true, top_k: 40, top_p: 0.95, min_p: 0.05,
  repeat_penalty: 1.0, seed: -1,
};
const SETTINGS_KEY = 'mmojo.completion.settings';
const INTEGERS = ['n_predict', 'top_k', 'seed'];

export const TEMPERATURE_PRESETS = [
  [0, 'Exact'], [0.3, 'Focused'], [0.7, 'Balanced'], [1.0, 'Creative'], [1.5, 'Wild'],
];
export const TOKEN_PRESETS = [-1, 16, 32, 64, 128, 256, 512, 1024, 2048];

// A setting's value from its text: numbers must be finite (NaN would be sent as null and
// the server rejects it), integers stay integers; anything else gives the default.
export function parseSetting(name, value) {
  if (name === 'stop') return String(value);
  if (name === 'use_stop') return value === true || value === 'true' || value === '1' || value === 'on';
  const text = String(value);
  const number = Number(text);
  if (text.trim() === '' || !Number.isFinite(number)) return DEFAULTS[name];
  return INTEGERS.includes(name) ? Math.trunc(number) : number;
}

export function loadSettings() {
  const stored = load(SETTINGS_KEY, {});
  const settings = { ...DEFAULTS };
  for (const name of Object.keys(DEFAULTS)) {
    if (stored && stored[name] !== undefined) settings[name] = parseSetting(name, stored[name]);
  }
  return settings;
}

export function saveSettings(settings) {
  save(SETTINGS_KEY, settings);
}

// Comma-separated; "\n" in a stop word stands for a new line.
export function stopWords(settings) {
  if (!settings.use_stop) return [];
  return settings.stop.split(',').map((s) => s.trim().replaceAll('\\n', '\n')).filter(Boolean);
}

export function settingsToHash(settings) {
  const params = new URLSearchParams();
  for (const name of Object.keys(DEFAULTS)) params.set(name, String(settings[name]));
  return `#${params.toString()}`;
}

// The settings a #hash names (only known names; others are ignored). Empty when none.
export function settingsFromHash(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  const found = {};
  for (const name of Object.keys(DEFAULTS)) {
    if (params.has(name)) found[name] = parseSetting(name, params.get(name));
  }
  return found;
}
