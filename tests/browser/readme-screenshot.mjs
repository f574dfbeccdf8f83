// Takes the README's screenshots of the completion editor and the chat, light and dark,
// desktop and phone: `MMOJO_BUILD_DIR=build/release node tests/browser/readme-screenshot.mjs
// [out dir]` (default docs/images). Not a test; it uses the same helpers. The editor shows
// stories260K writing a story; the chat shows a canned reply (the tiny model cannot write
// markdown), streamed through the same route the tests use.
import { join } from 'node:path';
import { openChat, replyDone, routeChat, send, sseBody } from './chat-helpers.mjs';
import { launchBrowser, openEditor, REPO, startServer, waitFor } from './helpers.mjs';

const outDir = process.argv[2] || join(REPO, 'docs', 'images');
const SIZES = { desktop: { viewport: { width: 1200, height: 750 } }, phone: { viewport: { width: 390, height: 780 }, isMobile: true, hasTouch: true } };
const ANSWER = [
  { reasoning_content: 'They want the two usual ways, with a note on which changes the list.' },
  'Two ways, depending on whether you want a **new list** or to change it **in place**:\n\n',
  '```python\nnumbers = [1, 2, 3, 4]\nbackwards = numbers[::-1]   # new list\nnumbers.reverse()           # in place\n```\n\n',
  '| way | new list | cost |\n|---|---|---|\n| `xs[::-1]` | yes | $O(n)$ memory |\n| `xs.reverse()` | no | $O(1)$ memory |\n',
];

const server = await startServer();
try {
  for (const scheme of ['light', 'dark']) {
    for (const [size, options] of Object.entries(SIZES)) {
      const browser = await launchBrowser({ colorScheme: scheme, ...options });
      try {
        const { page, context } = browser;
        await openEditor(page, server.base, { temperature: 0.7, n_predict: 600, seed: 7, top_k: 40 });
        await page.fill('#editor', 'Once upon a time, there was a little girl named Lily. She had a red kite.');
        // Slow the stream down so the picture catches the editor mid-story.
        const cdp = await context.newCDPSession(page);
        await cdp.send('Network.enable');
        await cdp.send('Network.emulateNetworkConditions',
          { offline: false, latency: 0, downloadThroughput: 12000, uploadThroughput: -1 });
        await page.click('#generate');
        await waitFor(async () => (await page.locator('#editor').inputValue()).length > (size === 'phone' ? 700 : 900),
          { timeoutMs: 60000, what: 'a few paragraphs' });
        await page.locator('#editor').blur();
        await page.screenshot({ path: join(outDir, `editor-${scheme}-${size}.png`) });
        await page.click('#stop');
        await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
        await routeChat(page, [sseBody(ANSWER, { timings: { predicted_n: 96, predicted_ms: 2400, prompt_n: 30 } })]);
        await openChat(page, server.base);
        await send(page, 'How do I reverse a list in Python?');
        await replyDone(page, waitFor, 1);
        await page.locator('.message.assistant details.reasoning summary').click();
        await page.locator('#chat-input').blur();
        await page.screenshot({ path: join(outDir, `chat-${scheme}-${size}.png`) });
        console.log(`wrote ${scheme} ${size}`);
      } finally {
        await browser.close();
      }
    }
  }
} finally {
  await server.stop();
}
