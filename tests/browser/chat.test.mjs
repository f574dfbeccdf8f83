// The chat tab against the real server: stories260K has no chat template, so the server
// renders the messages with ChatML; the answer is story-like gibberish that must stream in.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, screenshot, startServer, waitFor } from './helpers.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

test('the chat tab streams an answer, shown as text', async () => {
  const browser = await launchBrowser();
  const { page, context } = browser;
  try {
    await page.goto(`${server.base}/`);
    await page.getByRole('tab', { name: 'Chat' }).click();
    assert.ok(await page.locator('#view-chat').isVisible());
    assert.ok(await page.locator('#view-completion').isHidden());
    // Record every length the assistant message takes while it streams.
    await page.evaluate(() => {
      window.__answerLengths = [];
      const box = document.getElementById('messages');
      new MutationObserver(() => {
        const answers = box.querySelectorAll('.message.assistant');
        if (answers.length) window.__answerLengths.push(answers[answers.length - 1].textContent.length);
      }).observe(box, { childList: true, subtree: true, characterData: true });
    });
    // A slow link keeps the (fast) answer streaming long enough to see it grow and stop it.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: 6000, uploadThroughput: -1 });
    await page.fill('#chat-input', 'Tell me a story about <b>a cat</b>.');
    await page.keyboard.press('Enter');
    assert.equal(await page.locator('#chat-input').inputValue(), '', 'Enter sends the message');
    const user = page.locator('.message.user');
    assert.equal(await user.count(), 1);
    assert.equal(await user.textContent(), 'Tell me a story about <b>a cat</b>.', 'no HTML from text');
    assert.equal(await user.locator('b').count(), 0);
    await waitFor(async () => new Set(
      (await page.evaluate(() => window.__answerLengths)).filter((n) => n > 0)).size >= 3,
    { what: 'the answer to grow' });
    assert.ok(await page.locator('#send').isDisabled(), 'Send is disabled while answering');
    await page.click('#chat-stop');
    await waitFor(async () => !(await page.locator('#send').isDisabled()), { what: 'Send enabled again' });
    const lengths = (await page.evaluate(() => window.__answerLengths)).filter((n) => n > 0);
    for (let i = 1; i < lengths.length; i += 1) assert.ok(lengths[i] >= lengths[i - 1], 'the answer only grows');
    const answer = await page.locator('.message.assistant').last().textContent();
    assert.ok(answer.trim().length > 0, 'an answer appeared');
    assert.ok(await page.locator('#regenerate').isEnabled());
    await cdp.send('Network.emulateNetworkConditions',
      { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await screenshot(page, 'chat-streamed');

    // New chat empties the conversation.
    await page.click('#new-chat');
    assert.equal(await page.locator('#messages .message').count(), 0);
    assert.deepEqual(browser.offHost, []);
    assert.deepEqual(browser.errors, []);
  } finally {
    await browser.close();
  }
});
