// The completion editor in a real Chromium against the real server with stories260K:
// streamed greedy continuation equal to llama.cpp's reference, the keys (Enter,
// Ctrl+Enter, Escape, Ctrl+Z / Ctrl+Shift+Z, Ctrl-click), Stop, undo/redo between completion
// points, the status line (stop reason, elapsed time), Replay, presets, stop words on/off.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  editorValue, hexToUtf8, openEditor, recordEditorWrites, reference, screenshot,
  sleep, startServer, statusText, waitFor, withBrowser,
} from './helpers.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => {
  const { code } = await server.stop();
  assert.equal(code, 0, `server exit code\n${server.log()}`);
});


const idle = async (page) => !(await page.locator('#generate').isDisabled());
async function finished(page) {
  await waitFor(async () => /stop: /.test(await statusText(page)) && idle(page), { what: 'the end of the completion' });
  return statusText(page);
}
// Every /completion request body the page sends.
function recordRequests(page) {
  const bodies = [];
  page.on('request', (r) => { if (r.url().endsWith('/completion')) bodies.push(JSON.parse(r.postData())); });
  return bodies;
}

for (const [label, options] of [['desktop', {}], ['phone', { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }]]) {
  test(`Enter streams the greedy continuation of the reference (${label})`, async () => {
    const ref = reference().prompts[0];
    const expected = ref.text + hexToUtf8(ref.bytes_hex);
    // The reference tokenization starts with BOS; /completion adds BOS to a string prompt too.
    const tokenized = await (await fetch(`${server.base}/tokenize`, {
      method: 'POST', body: JSON.stringify({ content: ref.text, add_special: true }),
    })).json();
    assert.deepEqual(tokenized.tokens, ref.prompt_tokens);

    await withBrowser(options, async ({ page }) => {
      await recordEditorWrites(page);
      await openEditor(page, server.base, { temperature: 0, n_predict: ref.tokens.length });
      await page.locator('#editor').click();
      await page.keyboard.type(ref.text);
      const before = await page.evaluate(() => window.__editorLengths.length);
      await page.keyboard.press('Enter');
      const status = await finished(page);
      assert.equal(await editorValue(page), expected, 'Enter completes and adds no new line');
      const lengths = (await page.evaluate(() => window.__editorLengths)).slice(before);
      const intermediate = [...new Set(lengths.filter((n) => n > ref.text.length && n < expected.length))];
      assert.ok(intermediate.length >= 2, `streamed intermediate lengths: ${lengths}`);
      for (let i = 1; i < lengths.length; i += 1) assert.ok(lengths[i] >= lengths[i - 1], 'the text only grows');
      // The status line: tokens, speed, elapsed time and why it stopped (n_predict reached).
      assert.match(status, new RegExp(`^${ref.tokens.length} tokens · [\\d.]+ tokens/s · [\\d.]+ s · stop: limit$`));
      // Tokens used against the context: prompt (with BOS) + generated, out of 2048.
      await waitFor(async () => (await page.locator('#token-count').textContent())
        === `${ref.prompt_tokens.length + ref.tokens.length} / 2048 tokens`, { what: 'the token count' });
      await screenshot(page, `completion-greedy-${label}`);
    });
  });
}

test('Shift+Enter is a new line; Ctrl+Enter adds a new line and completes', async () => {
  await withBrowser({}, async ({ page }) => {
    const bodies = recordRequests(page);
    await openEditor(page, server.base, { temperature: 0, n_predict: 6 });
    await page.locator('#editor').click();
    await page.keyboard.type('Tom had a ball.');
    await page.keyboard.press('Shift+Enter');
    await page.keyboard.type('He');
    assert.equal(await editorValue(page), 'Tom had a ball.\nHe');
    assert.equal(bodies.length, 0, 'Shift+Enter does not complete');
    await page.keyboard.press('Control+Enter');
    await finished(page);
    assert.equal(bodies.length, 1);
    assert.equal(bodies[0].prompt, 'Tom had a ball.\nHe\n', 'the new line is part of the prompt');
    assert.ok((await editorValue(page)).startsWith('Tom had a ball.\nHe\n'));
    assert.ok((await editorValue(page)).length > 'Tom had a ball.\nHe\n'.length);
  });
});

test('Stop and Escape halt a long generation; the status says stop: user', async () => {
  await withBrowser({}, async ({ context, page }) => {
    await openEditor(page, server.base, { temperature: 0, n_predict: 2000 });
    await page.fill('#editor', 'Once upon a time, there was a little girl named Lily.');
    // stories260K makes 2000 tokens in well under a second; a slow link lets the page see
    // the stream long enough to stop it (the server detects the disconnect).
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: 4000, uploadThroughput: -1 });
    for (const how of ['button', 'Escape']) {
      const start = (await editorValue(page)).length;
      await page.click('#generate');
      await waitFor(async () => (await editorValue(page)).length > start + 20, { what: 'some tokens' });
      assert.ok(await page.locator('#generate').isDisabled(), 'Complete is disabled while running');
      assert.ok(await page.locator('#editor').evaluate((e) => e.readOnly), 'the text is read-only while running');
      if (how === 'button') await page.click('#stop');
      else await page.locator('#editor').press('Escape');
      await waitFor(() => idle(page), { what: 'Complete enabled again' });
      const stopped = await editorValue(page);
      await sleep(800);
      assert.equal(await editorValue(page), stopped, `the text stopped growing (${how})`);
      assert.match(await statusText(page), /^\d+ tokens · [\d.]+ s · stop: user$/);
      assert.ok(stopped.length - start < 2000, `${stopped.length - start} characters arrived`);
    }
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await screenshot(page, 'completion-stopped');
  });
});

test('Undo and Redo move between completion points, by button and by key', async () => {
  const ref = reference().prompts[1];
  const n = 8;
  const continuation = hexToUtf8(ref.pieces_hex.slice(0, n).join(''));
  await withBrowser({}, async ({ page }) => {
    await openEditor(page, server.base, { temperature: 0, n_predict: n });
    await page.fill('#editor', ref.text);
    assert.ok(await page.locator('#undo').isDisabled());
    await page.click('#generate');
    await finished(page);
    assert.equal(await editorValue(page), ref.text + continuation);
    assert.ok(await page.locator('#redo').isDisabled());
    await page.click('#undo');
    assert.equal(await editorValue(page), ref.text);
    assert.ok(await page.locator('#undo').isDisabled());
    await page.click('#redo');
    assert.equal(await editorValue(page), ref.text + continuation);
    // The usual keys do the same while the text is unchanged since the last point.
    await page.locator('#editor').press('Control+z');
    assert.equal(await editorValue(page), ref.text);
    await page.locator('#editor').press('Control+Shift+z');
    assert.equal(await editorValue(page), ref.text + continuation);
    await page.locator('#editor').press('Control+z');
    await page.locator('#editor').press('Control+y');
    assert.equal(await editorValue(page), ref.text + continuation);
    await screenshot(page, 'completion-redo');
  });
});

test('Ctrl-click deletes everything after the click; Undo brings it back', async () => {
  await withBrowser({}, async ({ page }) => {
    await openEditor(page, server.base);
    const text = 'First line of the text.\nSecond line here.\nThird line at the end.';
    await page.fill('#editor', text);
    const metrics = await page.locator('#editor').evaluate((e) => {
      const style = getComputedStyle(e);
      return { top: parseFloat(style.paddingTop), left: parseFloat(style.paddingLeft), line: parseFloat(style.lineHeight) };
    });
    // Just left of the first character of the second line.
    await page.locator('#editor').click({
      modifiers: ['Control'], position: { x: metrics.left + 1, y: metrics.top + metrics.line * 1.5 },
    });
    assert.equal(await editorValue(page), 'First line of the text.\n');
    assert.match(await statusText(page), /^Deleted everything after position 24/);
    await page.click('#undo');
    assert.equal(await editorValue(page), text);
    // A plain click deletes nothing.
    await page.locator('#editor').click({ position: { x: metrics.left + 1, y: metrics.top + metrics.line * 0.5 } });
    assert.equal(await editorValue(page), text);
  });
});

test('Replay runs the last completion again from its prompt', async () => {
  const ref = reference().prompts[2];
  const n = 10;
  const continuation = hexToUtf8(ref.pieces_hex.slice(0, n).join(''));
  await withBrowser({}, async ({ page }) => {
    const bodies = recordRequests(page);
    await openEditor(page, server.base, { temperature: 0, n_predict: n });
    assert.ok(await page.locator('#replay').isDisabled(), 'nothing to replay yet');
    await page.fill('#editor', ref.text);
    await page.click('#generate');
    await finished(page);
    await page.locator('#editor').fill('Something else written since.');
    await page.click('#replay');
    await finished(page);
    assert.equal(await editorValue(page), ref.text + continuation);
    assert.equal(bodies.length, 2);
    assert.deepEqual(bodies[1], bodies[0], 'the same request again');
    // The text written in between is one Undo away.
    await page.click('#undo');
    assert.equal(await editorValue(page), ref.text);
    await page.click('#undo');
    assert.equal(await editorValue(page), 'Something else written since.');
  });
});

test('Presets: temperature and "tokens: complete / N" reach the request', async () => {
  await withBrowser({}, async ({ page }) => {
    const bodies = recordRequests(page);
    await openEditor(page, server.base, { temperature: 0.9, n_predict: 100 });
    assert.equal(await page.locator('#temp-preset option:checked').textContent(), 'temperature: 0.9');
    await page.selectOption('#temp-preset', { label: 'Exact (0)' });
    await page.selectOption('#tokens-preset', { label: 'tokens: 16' });
    await page.fill('#editor', 'The dog');
    await page.click('#generate');
    assert.match(await finished(page), /^16 tokens .* stop: limit$/);
    assert.equal(bodies[0].temperature, 0);
    assert.equal(bodies[0].n_predict, 16);
    assert.equal(await page.locator('#set-temperature').inputValue(), '0', 'the settings panel follows');
    // "complete": no token limit, the model stops by itself (end of text) or at the context.
    await page.selectOption('#tokens-preset', { label: 'tokens: complete' });
    await page.fill('#editor', 'The dog');
    await page.click('#generate');
    const status = await waitFor(async () => {
      const s = await statusText(page);
      return /stop: /.test(s) && s;
    }, { timeoutMs: 60000, what: 'the end of an unlimited completion' });
    assert.equal(bodies[1].n_predict, -1);
    assert.match(status, /stop: (eos|limit)$/);
    await page.reload();
    assert.equal(await page.locator('#tokens-preset option:checked').textContent(), 'tokens: complete');
    await screenshot(page, 'completion-presets');
  });
});

test('Stop words end the continuation before the word, and can be switched off', async () => {
  const ref = reference().prompts[0];
  const full = hexToUtf8(ref.bytes_hex);
  const cut = full.indexOf(' park');
  assert.ok(cut > 0);
  await withBrowser({}, async ({ page }) => {
    const bodies = recordRequests(page);
    await openEditor(page, server.base, { temperature: 0, n_predict: ref.tokens.length, stop: 'zebra, park' });
    await page.fill('#editor', ref.text);
    await page.click('#generate');
    assert.match(await finished(page), /stop: word “park”$/);
    // Everything before the stop word is kept (up to the space before "park"), the word is not.
    assert.equal(await editorValue(page), ref.text + full.slice(0, cut + 1));
    assert.deepEqual(bodies[0].stop, ['zebra', 'park']);
    // Off: the same request without stop words gives the whole reference continuation.
    await page.click('#toggle-settings');
    await page.uncheck('#set-use_stop');
    await page.fill('#editor', ref.text);
    await page.click('#generate');
    assert.match(await finished(page), /stop: limit$/);
    assert.equal(bodies[1].stop, undefined);
    assert.equal(await editorValue(page), ref.text + full);
    // Remembered for the next visit.
    await page.reload();
    assert.equal(await page.locator('#set-stop').inputValue(), 'zebra, park');
    assert.equal(await page.locator('#set-use_stop').isChecked(), false);
    await screenshot(page, 'completion-stop-word');
  });
});
