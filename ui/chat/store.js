// Conversations kept in the browser's IndexedDB (database "mmojo", store "conversations",
// one record per conversation). When IndexedDB is unavailable (some private modes) the
// conversations live in memory for the session and `persistent` says so.
//
// A conversation: { id, title, created, updated, settings: {system, temperature, ...},
//   messages: [{ role, content, reasoning?, tool_calls?, stats?, stopped?, finish? }] }

const DB_NAME = 'mmojo';
const STORE = 'conversations';

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function openStore() {
  let db = null;
  try {
    const open = indexedDB.open(DB_NAME, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE, { keyPath: 'id' });
    db = await request(open);
  } catch {
    db = null;
  }
  const memory = new Map();
  const tx = (mode) => db.transaction(STORE, mode).objectStore(STORE);
  return {
    persistent: db !== null,
    async list() {
      const all = db ? await request(tx('readonly').getAll()) : [...memory.values()];
      return all.sort((a, b) => b.updated - a.updated);
    },
    async get(id) {
      return db ? request(tx('readonly').get(id)) : memory.get(id);
    },
    async put(conversation) {
      // Stored as plain data (a structured clone), never as live objects of the page.
      const copy = JSON.parse(JSON.stringify(conversation));
      if (db) await request(tx('readwrite').put(copy));
      else memory.set(copy.id, copy);
    },
    async remove(id) {
      if (db) await request(tx('readwrite').delete(id));
      else memory.delete(id);
    },
  };
}

export function newId() {
  return `c${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}

// Checks an imported file: an array of conversations (or one), each with messages whose
// roles and contents are strings. Returns clean copies with fresh ids; throws with the reason.
export function parseImport(text) {
  let data;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON (${err.message})`);
  }
  const list = Array.isArray(data) ? data : data?.conversations ?? [data];
  if (!Array.isArray(list) || list.length === 0) throw new Error('no conversations in the file');
  return list.map((c, index) => {
    if (!c || !Array.isArray(c.messages)) throw new Error(`conversation ${index + 1} has no "messages" list`);
    const messages = c.messages.map((m, j) => {
      if (!m || typeof m.role !== 'string' || typeof (m.content ?? '') !== 'string') {
        throw new Error(`conversation ${index + 1}, message ${j + 1}: needs a string "role" and "content"`);
      }
      return { ...m, content: m.content ?? '' };
    });
    const now = Date.now();
    return {
      id: newId(),
      title: typeof c.title === 'string' && c.title.trim() ? c.title.trim() : `Imported ${index + 1}`,
      created: Number(c.created) || now,
      updated: now + index,
      settings: typeof c.settings === 'object' && c.settings ? { ...c.settings } : {},
      messages,
    };
  });
}
