// Takes the README's screenshot of the completion editor while stories260K is writing a
// story: `MMOJO_BUILD_DIR=build/release node tests/browser/readme-screenshot.mjs [out.png]`
// (default docs/images/editor.png). Not a test; it uses the same helpers.
import { join } from 'node:path';
import { launchBrowser, openEditor, REPO, startServer, waitFor } from './helpers.mjs';

const out = process.argv[2] || join(REPO, 'docs', 'images', 'editor.png');
const server = await startServer();
const browser = await launchBrowser({ viewport: { width: 1200, height: 750 }, colorScheme: 'light' });
try {
  const { page, context } = browser;
  await openEditor(page, server.base, { temperature: 0.7, n_predict: 600, seed: 7, top_k: 40 });
  await page.click('#toggle-settings');
  await page.fill('#editor', 'Once upon a time, there was a little girl named Lily. She had a red kite.');
  // Slow the stream down so the picture catches the editor mid-story.
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions',
    { offline: false, latency: 0, downloadThroughput: 12000, uploadThroughput: -1 });
  await page.click('#generate');
  await waitFor(async () => (await page.locator('#editor').inputValue()).length > 900,
    { timeoutMs: 60000, what: 'a few paragraphs' });
  await page.locator('#editor').blur();
  await page.screenshot({ path: out });
  await page.click('#stop');
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await server.stop();
}
