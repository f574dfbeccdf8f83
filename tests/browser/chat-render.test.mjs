// Chat rendering with canned streams (a tiny model cannot produce these): markdown with
// tables, highlighted code and copy buttons, LaTeX, sanitized HTML; reasoning shown
// collapsed; tool calls shown as such; errors shown with Retry and kept out of the history.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { openChat, replyDone, routeChat, send, sseBody, storedConversations } from './chat-helpers.mjs';
import { screenshot, startServer, waitFor, withBrowser } from './helpers.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

const withClipboard = (options, body) =>
  withBrowser({ ...options, permissions: ['clipboard-read', 'clipboard-write'] }, body);

const MARKDOWN = [
  '# Results\n\nHere is **bold** and `inline code`.\n\n',
  '| name | count |\n|---|---:|\n| apples | 12 |\n| pears | 7 |\n\n',
  '```python\ndef add(a, b):\n    return a + b  # sum\n```\n\n',
  'Euler: $e^{i\\pi} + 1 = 0$ and\n\n$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$\n\n',
  'Not math: it costs $5 and $10.\n\n',
  '<script>window.__pwned = 1</script><img src="http://198.51.100.7/x.png" onerror="window.__pwned = 2">',
  '<a href="https://example.org/" onclick="window.__pwned = 3">a link</a>',
];

for (const [label, options] of [['desktop', {}], ['phone', PHONE]]) {
  test(`markdown: table, highlighted code with copy, LaTeX, no scripts (${label})`, async () => {
    await withClipboard(options, async ({ page }) => {
      const requests = await routeChat(page, [sseBody(MARKDOWN)]);
      await openChat(page, server.base);
      await send(page, 'Show me some markdown');
      await replyDone(page, waitFor, 1);
      const reply = page.locator('.message.assistant').last();
      assert.equal(await reply.locator('h1').textContent(), 'Results');
      assert.equal(await reply.locator('strong').textContent(), 'bold');
      const cells = await reply.locator('table td').allTextContents();
      assert.deepEqual(cells, ['apples', '12', 'pears', '7']);
      assert.equal(await reply.locator('table th').count(), 2);
      const code = reply.locator('pre code');
      assert.equal(await code.textContent(), 'def add(a, b):\n    return a + b  # sum');
      assert.ok(await code.locator('.hljs-keyword').count() >= 2, 'keywords highlighted');
      assert.equal(await code.locator('.hljs-comment').textContent(), '# sum');
      const math = reply.locator('math');
      assert.equal(await math.count(), 2, 'inline and display formulas as MathML');
      assert.equal(await math.nth(1).getAttribute('display'), 'block');
      assert.match(await reply.textContent(), /costs \$5 and \$10/);
      assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no script ran');
      assert.equal(await reply.locator('script, img, [onerror], [onclick]').count(), 0);
      assert.equal(await reply.locator('a').getAttribute('rel'), 'noopener noreferrer');
      // The copy button puts the code itself on the clipboard.
      await reply.getByRole('button', { name: 'Copy python code' }).click();
      assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'def add(a, b):\n    return a + b  # sum');
      // Tokens and speed from the final chunk's timings: 7 tokens in 500 ms.
      assert.equal(await reply.locator('.stats').textContent(), '7 tokens · 14.0 tokens/s');
      // The stored message is the raw markdown, and the next request sends it back as such.
      const [conversation] = await storedConversations(page);
      assert.equal(conversation.messages[1].content, MARKDOWN.join(''));
      assert.equal(requests[0].messages.at(-1).content, 'Show me some markdown');
      await screenshot(page, `chat-markdown-${label}`, { fullPage: label === 'phone' });
    });
  });
}

test('reasoning is shown collapsed, apart from the answer (reasoning_content and <think>)', async () => {
  await withClipboard({}, async ({ page }) => {
    await routeChat(page, [
      sseBody([{ reasoning_content: 'The user greets me. ' }, { reasoning_content: 'I should greet back.' }, 'Hello!']),
      sseBody(['<think>Inline thoughts', ' here.</think>', '\n\nThe answer.']),
    ]);
    await openChat(page, server.base);
    await send(page, 'Hi');
    await replyDone(page, waitFor, 1);
    const reply = page.locator('.message.assistant').last();
    const details = reply.locator('details.reasoning');
    assert.equal(await details.getAttribute('open'), null, 'collapsed by default');
    assert.equal((await reply.locator('.content').textContent()).trim(), 'Hello!');
    assert.ok(await reply.locator('.reasoning-text').isHidden());
    await details.locator('summary').click();
    assert.equal(await reply.locator('.reasoning-text').textContent(), 'The user greets me. I should greet back.');
    await send(page, 'Again');
    await replyDone(page, waitFor, 2);
    const second = page.locator('.message.assistant').last();
    assert.equal((await second.locator('.content').textContent()).trim(), 'The answer.');
    assert.equal(await second.locator('.reasoning-text').textContent(), 'Inline thoughts here.');
    const stored = (await storedConversations(page))[0].messages;
    assert.equal(stored[1].reasoning, 'The user greets me. I should greet back.');
    assert.equal(stored[1].content, 'Hello!');
    await screenshot(page, 'chat-reasoning');
  });
});

test('tool calls are shown as tool calls and sent back with the history', async () => {
  await withClipboard({}, async ({ page }) => {
    const requests = await routeChat(page, [
      sseBody([
        { tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] },
        { tool_calls: [{ index: 0, function: { arguments: '{"city": "Par' } }] },
        { tool_calls: [{ index: 0, function: { arguments: 'is", "unit": "C"}' } }] },
      ], { finish: 'tool_calls' }),
      sseBody(['It is sunny.']),
    ]);
    await openChat(page, server.base);
    await send(page, 'Weather in Paris?');
    await replyDone(page, waitFor, 1);
    const call = page.locator('.message.assistant .tool-call');
    assert.equal(await call.count(), 1);
    assert.equal(await call.getAttribute('role'), 'group');
    assert.equal(await call.locator('.tool-call-head').textContent(), 'Tool call: get_weather');
    assert.deepEqual(JSON.parse(await call.locator('pre').textContent()), { city: 'Paris', unit: 'C' });
    await screenshot(page, 'chat-tool-call');
    await send(page, 'And?');
    await replyDone(page, waitFor, 2);
    const sent = requests[1].messages;
    assert.deepEqual(sent[1].tool_calls, [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Paris", "unit": "C"}' } }]);
  });
});

test('an error is shown with Retry and never enters the history', async () => {
  await withClipboard({}, async ({ page }) => {
    const requests = await routeChat(page, [
      (route) => route.fulfill({ status: 500, headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code: 500, message: 'the model ran out of memory', type: 'server_error' } }) }),
      // An error event in the middle of a stream (after some text) is an error too.
      sseBody(['Half an ans']).replace('data: {"id":"chatcmpl-test","object":"chat.completion.chunk","created":0,"model":"canned","choices":[{"index":0,"delta":{},"finish_reason":"stop"}',
        'data: {"error":{"code":500,"message":"stream broke","type":"server_error"}}\n\ndata: {"x":[{"index":0,"delta":{},"finish_reason":"stop"}'),
      sseBody(['Fine now.']),
    ]);
    await openChat(page, server.base);
    await send(page, 'Hello?');
    const alert = page.getByRole('alert');
    await waitFor(() => alert.isVisible(), { what: 'the error' });
    assert.match(await alert.textContent(), /the model ran out of memory/);
    assert.equal(await page.locator('.message.assistant').count(), 0, 'no reply bubble holds the error');
    let stored = (await storedConversations(page))[0].messages;
    assert.deepEqual(stored.map((m) => m.role), ['user']);
    await screenshot(page, 'chat-error');
    await alert.getByRole('button', { name: 'Retry' }).click();
    await waitFor(async () => /stream broke/.test(await alert.textContent()), { what: 'the second error' });
    assert.equal(await page.locator('.message.assistant').count(), 0, 'the half answer is not kept');
    await alert.getByRole('button', { name: 'Retry' }).click();
    await replyDone(page, waitFor, 1);
    assert.ok(await alert.isHidden());
    stored = (await storedConversations(page))[0].messages;
    assert.deepEqual(stored.map((m) => [m.role, m.content]), [['user', 'Hello?'], ['assistant', 'Fine now.']]);
    assert.equal(requests.length, 3);
    for (const r of requests) assert.deepEqual(r.messages, [{ role: 'user', content: 'Hello?' }], 'retries send the same history');
  });
});
