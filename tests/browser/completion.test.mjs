// The completion editor in a real Chromium against the real server with stories260K:
// streamed greedy continuation equal to llama.cpp's reference, Stop, undo/redo between
// completion points, and snapshots that survive a reload.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  hexToUtf8, launchBrowser, openEditor, recordEditorWrites, reference, screenshot, sleep,
  startServer, waitFor,
} from './helpers.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => {
  const { code } = await server.stop();
  assert.equal(code, 0, `server exit code\n${server.log()}`);
});

async function withBrowser(options, body) {
  const browser = await launchBrowser(options);
  try {
    await body(browser);
    assert.deepEqual(browser.offHost, [], 'the page only talks to 127.0.0.1');
    assert.deepEqual(browser.errors, [], 'no uncaught page errors');
  } finally {
    await browser.close();
  }
}

const editorValue = (page) => page.locator('#editor').inputValue();
const idle = async (page) => !(await page.locator('#generate').isDisabled());

test('Ctrl-Enter streams the greedy continuation of the reference', async () => {
  const ref = reference().prompts[0];
  const expected = ref.text + hexToUtf8(ref.bytes_hex);
  // The reference tokenization starts with BOS; /completion adds BOS to a string prompt too.
  const tokenized = await (await fetch(`${server.base}/tokenize`, {
    method: 'POST', body: JSON.stringify({ content: ref.text, add_special: true }),
  })).json();
  assert.deepEqual(tokenized.tokens, ref.prompt_tokens);

  await withBrowser({}, async ({ page }) => {
    await recordEditorWrites(page);
    await openEditor(page, server.base, { temperature: 0, n_predict: ref.tokens.length });
    await page.locator('#editor').click();
    await page.keyboard.type(ref.text);
    const before = await page.evaluate(() => window.__editorLengths.length);
    await page.keyboard.press('Control+Enter');
    await waitFor(async () => (await page.locator('#completion-status').textContent()).includes('tokens/s'),
      { what: 'the end of the generation' });
    assert.equal(await editorValue(page), expected);
    const lengths = (await page.evaluate(() => window.__editorLengths)).slice(before);
    const intermediate = [...new Set(lengths.filter((n) => n > ref.text.length && n < expected.length))];
    assert.ok(intermediate.length >= 2, `streamed intermediate lengths: ${lengths}`);
    for (let i = 1; i < lengths.length; i += 1) assert.ok(lengths[i] >= lengths[i - 1], 'the text only grows');
    assert.match(await page.locator('#completion-status').textContent(), new RegExp(`^${ref.tokens.length} tokens`));
    assert.ok(await idle(page));
    await screenshot(page, 'completion-greedy');
  });
});

test('Stop halts a long generation', async () => {
  await withBrowser({}, async ({ context, page }) => {
    await openEditor(page, server.base, { temperature: 0, n_predict: 2000 });
    await page.fill('#editor', 'Once upon a time, there was a little girl named Lily.');
    const start = (await editorValue(page)).length;
    // stories260K makes 2000 tokens in well under a second; a slow link lets the page see
    // the stream long enough to stop it (the server detects the disconnect).
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: 4000, uploadThroughput: -1 });
    await page.click('#generate');
    await waitFor(async () => (await editorValue(page)).length > start + 20, { what: 'some tokens' });
    assert.ok(await page.locator('#generate').isDisabled(), 'Generate is disabled while running');
    await page.click('#stop');
    await waitFor(() => idle(page), { what: 'Generate enabled again' });
    const stopped = await editorValue(page);
    await sleep(1000);
    assert.equal(await editorValue(page), stopped, 'the text stopped growing');
    assert.ok(await page.locator('#stop').isDisabled());
    assert.match(await page.locator('#completion-status').textContent(), /^Stopped after \d+ tokens/);
    // Far from the 2000 tokens (~4600 characters) the server would have sent.
    assert.ok(stopped.length - start < 2000, `${stopped.length - start} characters arrived`);
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await screenshot(page, 'completion-stopped');
  });
});

test('Undo restores the prompt and Redo the completion', async () => {
  const ref = reference().prompts[1];
  const n = 8;
  const continuation = hexToUtf8(ref.pieces_hex.slice(0, n).join(''));
  await withBrowser({}, async ({ page }) => {
    await openEditor(page, server.base, { temperature: 0, n_predict: n });
    await page.fill('#editor', ref.text);
    assert.ok(await page.locator('#undo').isDisabled());
    await page.click('#generate');
    await waitFor(async () => (await page.locator('#completion-status').textContent()).includes('tokens/s'),
      { what: 'the end of the generation' });
    assert.equal(await editorValue(page), ref.text + continuation);
    assert.ok(await page.locator('#redo').isDisabled());
    await page.click('#undo');
    assert.equal(await editorValue(page), ref.text);
    assert.ok(await page.locator('#undo').isDisabled());
    await screenshot(page, 'completion-undo');
    await page.click('#redo');
    assert.equal(await editorValue(page), ref.text + continuation);
    assert.ok(await page.locator('#redo').isDisabled());
    await screenshot(page, 'completion-redo');
  });
});

test('A snapshot survives a reload', async () => {
  const text = 'Snapshot text: Tom and Sue went to the beach.\nThey saw a crab.';
  await withBrowser({}, async ({ page }) => {
    await openEditor(page, server.base);
    await page.fill('#editor', text);
    await page.click('#toggle-snapshots');
    await page.fill('#snapshot-name', 'beach');
    await page.click('#snapshot-form button[type="submit"]');
    await page.fill('#editor', 'something else entirely');
    await page.reload();
    await page.locator('#editor').waitFor();
    assert.equal(await editorValue(page), 'something else entirely', 'the text itself is remembered too');
    await page.click('#toggle-snapshots');
    const item = page.locator('#snapshot-list li', { hasText: 'beach' });
    assert.equal(await item.count(), 1);
    await item.getByRole('button', { name: 'Restore snapshot beach' }).click();
    assert.equal(await editorValue(page), text);
    await screenshot(page, 'snapshot-restored');
    await item.getByRole('button', { name: 'Delete snapshot beach' }).click();
    assert.equal(await page.locator('#snapshot-list li').count(), 0);
  });
});

test('Settings reach the request: a stop word ends the greedy continuation before it', async () => {
  const ref = reference().prompts[0];
  const full = hexToUtf8(ref.bytes_hex);
  const cut = full.indexOf(' park');
  assert.ok(cut > 0);
  await withBrowser({}, async ({ page }) => {
    await openEditor(page, server.base, { temperature: 0, n_predict: ref.tokens.length, stop: 'zebra, park' });
    await page.fill('#editor', ref.text);
    await page.click('#generate');
    await waitFor(async () => (await page.locator('#completion-status').textContent()).includes('tokens/s'),
      { what: 'the end of the generation' });
    // Everything before the stop word is kept (up to the space before "park"), the word is not.
    assert.equal(await editorValue(page), ref.text + full.slice(0, cut + 1));
    // The settings are remembered for the next visit.
    await page.reload();
    assert.equal(await page.locator('#set-stop').inputValue(), 'zebra, park');
    assert.equal(await page.locator('#set-temperature').inputValue(), '0');
    await screenshot(page, 'completion-stop-word');
  });
});
