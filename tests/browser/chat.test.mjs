// The chat against the real server (stories260K: no chat template, so the server uses
// ChatML; the answers are story text): streaming, Stop (kept, marked stopped), tokens and
// speed per message, conversations in IndexedDB across reloads (switch, rename, delete,
// export, import), edit / regenerate / branch, per-conversation settings and system prompt,
// a live region that is not told every token, and the newest reply in view on a phone.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { openChat, openConversation, replyDone, send, storedConversations } from './chat-helpers.mjs';
import { screenshot, startServer, waitFor, withBrowser } from './helpers.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

function recordChatRequests(page) {
  const bodies = [];
  page.on('request', (r) => { if (r.url().endsWith('/v1/chat/completions')) bodies.push(JSON.parse(r.postData())); });
  return bodies;
}
async function setChatSettings(page, values) {
  if (await page.locator('#chat-settings').isHidden()) await page.click('#toggle-chat-settings');
  for (const [name, value] of Object.entries(values)) await page.fill(`#chat-set-${name}`, String(value));
  await page.click('#toggle-chat-settings');
}

test('streams a reply; Stop keeps it marked stopped; the live region is not told every token', async () => {
  await withBrowser({}, async ({ page, context }) => {
    await openChat(page, server.base);
    await page.evaluate(() => {
      window.__answerLengths = [];
      window.__announcements = [];
      const box = document.getElementById('messages');
      new MutationObserver(() => {
        const answers = box.querySelectorAll('.message.assistant');
        if (answers.length) window.__answerLengths.push(answers[answers.length - 1].querySelector('.content').textContent.length);
      }).observe(box, { childList: true, subtree: true, characterData: true });
      const live = document.getElementById('chat-announce');
      new MutationObserver(() => window.__announcements.push(live.textContent))
        .observe(live, { childList: true, subtree: true, characterData: true });
    });
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: 6000, uploadThroughput: -1 });
    await setChatSettings(page, { max_tokens: 1500 });
    await send(page, 'Tell me a story about <b>a cat</b>.');
    assert.equal(await page.locator('#chat-input').inputValue(), '', 'Enter sends the message');
    const user = page.locator('.message.user');
    assert.equal(await user.locator('.content').textContent(), 'Tell me a story about <b>a cat</b>.', 'no HTML from text');
    assert.equal(await user.locator('b').count(), 0);
    await waitFor(async () => new Set((await page.evaluate(() => window.__answerLengths)).filter((n) => n > 0)).size >= 3,
      { what: 'the answer to grow' });
    assert.ok(await page.locator('#send').isDisabled(), 'Send is disabled while answering');
    await page.click('#chat-stop');
    await replyDone(page, waitFor, 1);
    const lengths = (await page.evaluate(() => window.__answerLengths)).filter((n) => n > 0);
    assert.ok(lengths.length >= 3);
    const reply = page.locator('.message.assistant').last();
    assert.equal(await reply.locator('.badge-stopped').textContent(), 'stopped');
    assert.match(await reply.locator('.stats').textContent(), /^\d+ tokens · [\d.]+ tokens\/s$/);
    const stored = (await storedConversations(page))[0].messages;
    assert.equal(stored.length, 2);
    assert.equal(stored[1].stopped, true);
    assert.ok(stored[1].content.length > 0);
    const announcements = await page.evaluate(() => window.__announcements);
    assert.ok(announcements.length <= 3, `announced ${announcements.length} times: ${JSON.stringify(announcements)}`);
    assert.equal(announcements[0], 'Assistant is replying…');
    assert.match(announcements.at(-1), /^Stopped\. Assistant: /);
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await screenshot(page, 'chat-stopped');
  });
});

test('a finished reply shows its tokens and speed; messages are articles named by author', async () => {
  await withBrowser({}, async ({ page }) => {
    const bodies = recordChatRequests(page);
    const answers = [];
    page.on('response', async (r) => { if (r.url().endsWith('/v1/chat/completions')) answers.push(await r.text()); });
    await openChat(page, server.base);
    await setChatSettings(page, { max_tokens: 20, temperature: 0 });
    await send(page, 'Hello');
    await replyDone(page, waitFor, 1);
    assert.equal(bodies[0].max_tokens, 20);
    assert.equal(bodies[0].temperature, 0);
    await waitFor(() => answers.length === 1, { what: 'the response body' });
    const final = answers[0].split('\n').filter((l) => l.startsWith('data: {'))
      .map((l) => JSON.parse(l.slice(6))).find((e) => e.timings);
    const reply = page.locator('.message.assistant');
    assert.equal(await reply.locator('.stats').textContent(),
      `${final.timings.predicted_n} tokens · ${final.timings.predicted_per_second.toFixed(1)} tokens/s`);
    assert.equal(await reply.locator('.badge-length-limit').textContent(), 'length limit');
    const articles = page.getByRole('article');
    assert.equal(await articles.count(), 2);
    assert.equal(await page.getByRole('article', { name: 'You' }).count(), 1);
    assert.equal(await page.getByRole('article', { name: 'Assistant' }).count(), 1);
  });
});

test('conversations persist across reloads: switch, rename, delete', async () => {
  await withBrowser({}, async ({ page }) => {
    await openChat(page, server.base);
    await setChatSettings(page, { max_tokens: 8 });
    await send(page, 'First conversation');
    await replyDone(page, waitFor, 1);
    await page.click('#new-chat');
    assert.equal(await page.locator('#messages .message').count(), 0);
    await setChatSettings(page, { max_tokens: 8 });
    await send(page, 'Second conversation');
    await replyDone(page, waitFor, 1);
    await page.reload();
    await page.getByRole('tab', { name: 'Chat' }).click();
    const items = page.locator('#conversation-list .conversation-open');
    await waitFor(async () => (await items.count()) === 2, { what: 'two conversations listed' });
    assert.deepEqual(await items.allTextContents(), ['Second conversation', 'First conversation']);
    assert.equal(await page.locator('.message.user .content').textContent(), 'Second conversation', 'the last one reopens');
    await openConversation(page, 'First conversation');
    assert.equal(await page.locator('.message.user .content').textContent(), 'First conversation');
    assert.equal(await page.locator('.message.assistant').count(), 1);
    // Rename in place.
    await page.getByRole('button', { name: 'Rename First conversation' }).click();
    await page.getByRole('textbox', { name: 'New name' }).fill('Renamed one');
    await page.keyboard.press('Enter');
    await waitFor(async () => (await items.allTextContents()).includes('Renamed one'), { what: 'the new name' });
    assert.equal(await page.locator('#chat-title').textContent(), 'Renamed one');
    // Delete (after a confirmation).
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Delete Second conversation' }).click();
    await waitFor(async () => (await items.count()) === 1, { what: 'one conversation left' });
    await page.reload();
    await page.getByRole('tab', { name: 'Chat' }).click();
    await waitFor(async () => (await items.count()) === 1, { what: 'the list after a reload' });
    assert.deepEqual(await items.allTextContents(), ['Renamed one']);
    assert.deepEqual((await storedConversations(page)).map((c) => c.title), ['Renamed one']);
    await screenshot(page, 'chat-conversations');
  });
});

test('export and import conversations as JSON', async () => {
  await withBrowser({}, async ({ page }) => {
    await openChat(page, server.base);
    await setChatSettings(page, { max_tokens: 6, system: 'You tell short stories.' });
    await send(page, 'Exported message');
    await replyDone(page, waitFor, 1);
    const download = page.waitForEvent('download');
    await page.click('#export-chats');
    const file = await (await download).path();
    const data = JSON.parse(readFileSync(file, 'utf8'));
    assert.equal(data.format, 'mmojo-conversations');
    assert.equal(data.conversations.length, 1);
    assert.equal(data.conversations[0].messages[0].content, 'Exported message');
    assert.equal(data.conversations[0].settings.system, 'You tell short stories.');
    // Import it (and a hand-written one) into a fresh browser.
    data.conversations.push({ title: 'Hand made', messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: '**Hello**' }] });
    await withBrowser({}, async ({ page: other }) => {
      await openChat(other, server.base);
      await other.setInputFiles('#import-chats', { name: 'chats.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(data)) });
      await waitFor(async () => /Imported 2/.test(await other.locator('#chat-list-status').textContent()), { what: 'the import' });
      assert.equal(await other.locator('.message.user .content').textContent(), 'Exported message');
      assert.deepEqual((await storedConversations(other)).map((c) => c.title).sort(), ['Exported message', 'Hand made']);
      await openConversation(other, 'Hand made');
      assert.equal(await other.locator('.message.assistant strong').textContent(), 'Hello');
      // A broken file says why and changes nothing.
      await other.setInputFiles('#import-chats', { name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('[{"title": "x"}]') });
      await waitFor(async () => /Import failed: conversation 1 has no "messages" list/.test(await other.locator('#chat-list-status').textContent()),
        { what: 'the import error' });
      assert.equal((await storedConversations(other)).length, 2);
    });
  });
});

test('edit a message, regenerate, branch; settings and system prompt belong to the conversation', async () => {
  await withBrowser({}, async ({ page }) => {
    const bodies = recordChatRequests(page);
    await openChat(page, server.base);
    await setChatSettings(page, { max_tokens: 10, temperature: 0, system: 'You are a story teller.' });
    await send(page, 'Once upon a time');
    await replyDone(page, waitFor, 1);
    assert.deepEqual(bodies[0].messages, [
      { role: 'system', content: 'You are a story teller.' }, { role: 'user', content: 'Once upon a time' },
    ]);
    await send(page, 'Go on');
    await replyDone(page, waitFor, 2);
    // Regenerate replaces the last reply (temperature 0: the same text again).
    const before = await page.locator('.message.assistant').last().locator('.content').textContent();
    await page.getByRole('button', { name: 'Regenerate the last reply' }).click();
    await waitFor(() => bodies.length === 3, { what: 'the regenerate request' });
    await replyDone(page, waitFor, 2);
    assert.equal(await page.locator('.message').count(), 4);
    assert.deepEqual(bodies[2].messages, bodies[1].messages, 'the same history is sent again');
    assert.equal(await page.locator('.message.assistant').last().locator('.content').textContent(), before);
    // Edit the first message: what came after it is answered anew.
    await page.getByRole('button', { name: 'Edit message 1' }).click();
    await page.getByRole('textbox', { name: 'Edit the message' }).fill('Once upon a time, a dog');
    await page.getByRole('button', { name: 'Save and send' }).click();
    await waitFor(() => bodies.length === 4, { what: 'the request after the edit' });
    await replyDone(page, waitFor, 1);
    assert.deepEqual(bodies[3].messages.map((m) => m.content), ['You are a story teller.', 'Once upon a time, a dog']);
    assert.equal(await page.locator('.message').count(), 2);
    // Branch at the first message: a new conversation with that message only.
    await page.getByRole('button', { name: 'Branch a new conversation at message 1 (You)' }).click();
    await waitFor(async () => (await page.locator('#chat-title').textContent()).endsWith('(branch)'), { what: 'the branch' });
    assert.equal(await page.locator('.message').count(), 1);
    const all = await storedConversations(page);
    assert.equal(all.length, 2);
    const branchConv = all.find((c) => c.title.endsWith('(branch)'));
    assert.deepEqual(branchConv.messages.map((m) => m.content), ['Once upon a time, a dog']);
    assert.equal(branchConv.settings.system, 'You are a story teller.', 'the branch keeps the settings');
    // A new conversation starts from the defaults; the old one keeps its own.
    await page.click('#new-chat');
    await page.click('#toggle-chat-settings');
    assert.equal(await page.locator('#chat-set-system').inputValue(), '');
    assert.equal(await page.locator('#chat-set-temperature').inputValue(), '0.8');
    await openConversation(page, '(branch)');
    assert.equal(await page.locator('#chat-set-system').inputValue(), 'You are a story teller.');
    assert.equal(await page.locator('#chat-set-max_tokens').inputValue(), '10');
    await screenshot(page, 'chat-branch');
  });
});

test('phone: the newest reply scrolls into view; touch targets are at least 44 px', async () => {
  await withBrowser(PHONE, async ({ page }) => {
    await openChat(page, server.base);
    await setChatSettings(page, { max_tokens: 120, temperature: 0 });
    for (const text of ['One', 'Two', 'Three']) {
      await send(page, text);
      await replyDone(page, waitFor, ['One', 'Two', 'Three'].indexOf(text) + 1);
    }
    const viewport = page.viewportSize();
    const form = await page.locator('#chat-form').boundingBox();
    const last = await page.locator('.message.assistant').last().boundingBox();
    assert.ok(last.y + last.height <= form.y + 1, `the reply ends (${last.y + last.height}) above the input (${form.y})`);
    assert.ok(last.y + last.height > 0 && last.y < viewport.height, 'the reply is on screen');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    const small = await page.evaluate(() => [...document.querySelectorAll('button, select, .file-button, input:not([type=file])')]
      .filter((e) => e.offsetParent !== null)
      .map((e) => ({ e: e.id || e.textContent.trim() || e.getAttribute('aria-label'), r: e.getBoundingClientRect() }))
      .filter(({ r }) => r.width < 44 - 0.5 || r.height < 44 - 0.5)
      .map(({ e, r }) => `${e} ${r.width.toFixed(0)}x${r.height.toFixed(0)}`));
    assert.deepEqual(small, [], 'targets smaller than 44 px');
    await screenshot(page, 'chat-phone');
  });
});

test('switching conversation during a reply keeps the stopped reply with its own conversation', async () => {
  await withBrowser({}, async ({ page, context }) => {
    await openChat(page, server.base);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: 5000, uploadThroughput: -1 });
    await setChatSettings(page, { max_tokens: 1500 });
    await send(page, 'A long story please');
    await waitFor(async () => ((await page.locator('.message.assistant .content').textContent()) ?? '').length > 30,
      { what: 'the reply to start' });
    await page.click('#new-chat');
    await waitFor(async () => !(await page.locator('#send').isDisabled()), { what: 'the stop' });
    assert.equal(await page.locator('#messages .message').count(), 0, 'the new conversation is empty');
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    const first = await waitFor(async () => (await storedConversations(page)).find((c) => c.messages.length === 2),
      { what: 'the stopped reply stored with the first conversation' });
    assert.equal(first.messages[1].stopped, true);
    await openConversation(page, 'A long story please');
    assert.equal(await page.locator('.message.assistant .badge-stopped').count(), 1);
  });
});

test('phone: the conversation list opens from its button and closes on a choice; Escape stops a reply', async () => {
  await withBrowser(PHONE, async ({ page, context }) => {
    await openChat(page, server.base);
    await setChatSettings(page, { max_tokens: 6 });
    await send(page, 'Phone one');
    await replyDone(page, waitFor, 1);
    await page.click('#new-chat');
    assert.ok(await page.locator('#conversations').isHidden(), 'the list is folded away on a phone');
    await page.click('#toggle-conversations');
    assert.equal(await page.locator('#toggle-conversations').getAttribute('aria-expanded'), 'true');
    assert.ok(await page.locator('#conversations').isVisible());
    await openConversation(page, 'Phone one');
    await waitFor(() => page.locator('#conversations').isHidden(), { what: 'the list to close on a choice' });
    assert.equal(await page.locator('#toggle-conversations').getAttribute('aria-expanded'), 'false');
    assert.equal(await page.locator('.message.user .content').textContent(), 'Phone one');
    // Escape in the message box stops a reply.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: 5000, uploadThroughput: -1 });
    await setChatSettings(page, { max_tokens: 1500 });
    await send(page, 'Another long one');
    await waitFor(async () => ((await page.locator('.message.assistant').last().locator('.content').textContent()) ?? '').length > 40,
      { what: 'the reply to start' });
    await page.locator('#chat-input').press('Escape');
    await replyDone(page, waitFor, 2);
    assert.equal(await page.locator('.message.assistant').last().locator('.badge-stopped').count(), 1);
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  });
});
