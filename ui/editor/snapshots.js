// Snapshots of the editor: up to 20 named copies of the text with the settings in force,
// kept in localStorage so they survive a reload. Saving a 21st drops the oldest.
import { load, save } from '../storage.js';

const SNAPSHOTS_KEY = 'mmojo.completion.snapshots';
export const MAX_SNAPSHOTS = 20;
const $ = (id) => document.getElementById(id);

// getState() -> { text, settings }; restore({ text, settings, name }) applies one.
export function setupSnapshots({ getState, restore, say }) {
  const list = $('snapshot-list');
  let snapshots = load(SNAPSHOTS_KEY, []);
  if (!Array.isArray(snapshots)) snapshots = [];

  function render() {
    list.replaceChildren();
    $('snapshot-count').textContent = `${snapshots.length} of ${MAX_SNAPSHOTS}`;
    for (const snapshot of [...snapshots].reverse()) {
      const item = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = snapshot.name;
      name.title = new Date(snapshot.saved).toLocaleString();
      const restoreButton = document.createElement('button');
      restoreButton.type = 'button';
      restoreButton.textContent = 'Restore';
      restoreButton.setAttribute('aria-label', `Restore snapshot ${snapshot.name}`);
      restoreButton.addEventListener('click', () => restore(snapshot));
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.textContent = 'Delete';
      remove.setAttribute('aria-label', `Delete snapshot ${snapshot.name}`);
      remove.addEventListener('click', () => {
        snapshots = snapshots.filter((s) => s !== snapshot);
        save(SNAPSHOTS_KEY, snapshots);
        render();
      });
      item.append(name, restoreButton, remove);
      list.append(item);
    }
  }

  $('snapshot-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $('snapshot-name').value.trim();
    if (!name) return;
    const { text, settings } = getState();
    snapshots = snapshots.filter((s) => s.name !== name);
    snapshots.push({ name, text, settings: { ...settings }, saved: Date.now() });
    let dropped = [];
    if (snapshots.length > MAX_SNAPSHOTS) dropped = snapshots.splice(0, snapshots.length - MAX_SNAPSHOTS);
    save(SNAPSHOTS_KEY, snapshots);
    $('snapshot-name').value = '';
    render();
    say(dropped.length ? `Saved “${name}”; the oldest snapshot “${dropped[0].name}” was dropped (at most ${MAX_SNAPSHOTS}).`
      : `Saved “${name}”.`);
  });
  render();
}
