// Chat test helpers: canned /v1/chat/completions SSE streams (for what a tiny model cannot
// produce: markdown, reasoning, tool calls, errors) and reading the page's IndexedDB.

// An SSE body in the form llama-server and mmojo-server send: a role chunk, content
// chunks, a final chunk with finish_reason and timings, then [DONE].
export function sseBody(deltas, { finish = 'stop', timings = { predicted_n: deltas.length, predicted_ms: 500, prompt_n: 12 } } = {}) {
  const chunk = (delta, finishReason = null, extra = {}) => `data: ${JSON.stringify({
    id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 0, model: 'canned',
    choices: [{ index: 0, delta, finish_reason: finishReason }], ...extra,
  })}\n\n`;
  return chunk({ role: 'assistant', content: null })
    + deltas.map((d) => chunk(typeof d === 'string' ? { content: d } : d)).join('')
    + chunk({}, finish, { timings })
    + 'data: [DONE]\n\n';
}

// Routes the next chat requests to canned bodies; records each request body.
export async function routeChat(page, bodies) {
  const requests = [];
  let i = 0;
  await page.route('**/v1/chat/completions', async (route) => {
    requests.push(JSON.parse(route.request().postData()));
    const next = bodies[Math.min(i, bodies.length - 1)];
    i += 1;
    if (typeof next === 'function') return next(route);
    return route.fulfill({ status: 200, headers: { 'content-type': 'text/event-stream' }, body: next });
  });
  return requests;
}

export async function storedConversations(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const open = indexedDB.open('mmojo', 1);
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const req = open.result.transaction('conversations').objectStore('conversations').getAll();
      req.onsuccess = () => { resolve(req.result); open.result.close(); };
      req.onerror = () => reject(req.error);
    };
  }));
}

export async function openChat(page, base) {
  await page.goto(`${base}/`);
  await page.getByRole('tab', { name: 'Chat' }).click();
  // The chat opens IndexedDB before it attaches its handlers.
  await page.locator('body[data-chat-ready="true"]').waitFor({ state: 'attached' });
}

export async function send(page, text) {
  await page.fill('#chat-input', text);
  await page.keyboard.press('Enter');
}

export async function replyDone(page, waitFor, count) {
  await waitFor(async () => (await page.locator('#messages .message.assistant:not(.streaming)').count()) >= count
    && !(await page.locator('#send').isDisabled()), { what: `reply ${count}`, timeoutMs: 60000 });
}

// Opens a conversation from the list and waits until it is shown (the list marks it current
// once its messages and settings are in place).
export async function openConversation(page, text) {
  await page.locator('#conversation-list .conversation-open', { hasText: text }).click();
  await page.locator('#conversation-list .conversation-open[aria-current="true"]', { hasText: text }).waitFor({ state: 'attached' });
}
