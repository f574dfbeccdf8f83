// The UI's pure modules run in node (no browser): folding streamed chat chunks (content,
// reasoning_content, <think>, tool-call fragments, timings), checking imported files, and
// settings from a bookmark's #hash. The browser tests cover the same paths end to end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyChunk, finishReply, newReply, toApiMessage } from '../../ui/chat/reply.js';
import { parseImport } from '../../ui/chat/store.js';
import { DEFAULTS, settingsFromHash, settingsToHash, stopWords } from '../../ui/editor/settings.js';

const chunk = (delta, extra = {}) => ({ choices: [{ index: 0, delta, finish_reason: extra.finish ?? null }], ...extra });

test('content, reasoning_content and finish fold into one reply', () => {
  const r = newReply();
  for (const c of [chunk({ role: 'assistant', content: null }), chunk({ reasoning_content: 'Let me ' }),
    chunk({ reasoning_content: 'think.' }), chunk({ content: 'Hel' }), chunk({ content: 'lo' }),
    { ...chunk({}, { finish: 'length' }), timings: { predicted_n: 4, predicted_ms: 200, prompt_n: 9 } }]) applyChunk(r, c);
  const m = finishReply(r, { elapsedMs: 300, firstTokenMs: 50, chunks: 4, stopped: false });
  assert.deepEqual(m, {
    role: 'assistant', content: 'Hello', reasoning: 'Let me think.', finish: 'length',
    stats: { tokens: 4, tokens_per_second: 20, prompt_tokens: 9, elapsed_ms: 300 },
  });
  assert.deepEqual(toApiMessage(m), { role: 'assistant', content: 'Hello' }, 'reasoning and stats stay in the browser');
});

test('<think> at the start is reasoning, elsewhere it is text; an unclosed one is still reasoning', () => {
  const a = newReply();
  for (const piece of ['<thi', 'nk>plan', ' it</th', 'ink>\n\nAnswer']) applyChunk(a, chunk({ content: piece }));
  assert.equal(a.content, 'Answer');
  assert.equal(a.inlineReasoning, 'plan it');
  const b = newReply();
  applyChunk(b, chunk({ content: 'Use the <think> tag like this.' }));
  assert.equal(b.content, 'Use the <think> tag like this.');
  const c = newReply();
  applyChunk(c, chunk({ content: '<think>still going' }));
  assert.equal(c.content, '');
  assert.equal(finishReply(c, { elapsedMs: 10, chunks: 1, stopped: true }).reasoning, 'still going');
});

test('tool-call fragments join by index; a stopped reply is marked and has no finish', () => {
  const r = newReply();
  applyChunk(r, chunk({ tool_calls: [{ index: 0, id: 'a', type: 'function', function: { name: 'get_', arguments: '' } }] }));
  applyChunk(r, chunk({ tool_calls: [{ index: 1, id: 'b', function: { name: 'other', arguments: '{}' } }] }));
  applyChunk(r, chunk({ tool_calls: [{ index: 0, function: { name: 'time', arguments: '{"tz":' } }] }));
  applyChunk(r, chunk({ tool_calls: [{ index: 0, function: { arguments: '"UTC"}' } }] }));
  const m = finishReply(r, { elapsedMs: 100, firstTokenMs: 0, chunks: 4, stopped: true });
  assert.deepEqual(m.tool_calls, [
    { id: 'a', type: 'function', function: { name: 'get_time', arguments: '{"tz":"UTC"}' } },
    { id: 'b', type: 'function', function: { name: 'other', arguments: '{}' } },
  ]);
  assert.equal(m.stopped, true);
  assert.equal(m.finish, undefined);
  assert.equal(m.stats.tokens, 4, 'without timings the count is the chunks');
  assert.deepEqual(toApiMessage(m).tool_calls, m.tool_calls);
});

test('imports: an export file, a bare list or one conversation; broken files say why', () => {
  const one = { title: 'T', messages: [{ role: 'user', content: 'hi' }], settings: { temperature: 0 } };
  for (const text of [JSON.stringify({ format: 'mmojo-conversations', conversations: [one] }), JSON.stringify([one]), JSON.stringify(one)]) {
    const [c] = parseImport(text);
    assert.equal(c.title, 'T');
    assert.deepEqual(c.messages, [{ role: 'user', content: 'hi' }]);
    assert.equal(c.settings.temperature, 0);
    assert.match(c.id, /^c[0-9a-z]+$/);
  }
  assert.throws(() => parseImport('{nope'), /^Error: not JSON/);
  assert.throws(() => parseImport('[]'), /no conversations in the file/);
  assert.throws(() => parseImport('[{"title": "x"}]'), /conversation 1 has no "messages" list/);
  assert.throws(() => parseImport('[{"messages": [{"role": 1, "content": "x"}]}]'), /conversation 1, message 1: needs a string "role"/);
  assert.equal(parseImport('[{"messages": []}]')[0].title, 'Imported 1');
});

test('bookmark hashes: known settings only, bad numbers fall back, round trip', () => {
  assert.deepEqual(settingsFromHash('#temperature=0.3&n_predict=12.7&evil=1&seed=abc'),
    { temperature: 0.3, n_predict: 12, seed: DEFAULTS.seed });
  assert.deepEqual(settingsFromHash(''), {});
  const settings = { ...DEFAULTS, stop: 'a, b,\\n', use_stop: false, temperature: 1.25 };
  assert.deepEqual(settingsFromHash(settingsToHash(settings)), settings);
  assert.deepEqual(stopWords({ ...settings, use_stop: true }), ['a', 'b', '\n']);
  assert.deepEqual(stopWords(settings), [], 'switched off');
});
