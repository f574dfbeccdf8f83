// Model panel, keyboard access, dark theme, phone-sized layout, and the static server's
// refusal of paths that leave the UI folder.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, test } from 'node:test';
import { luminance, screenshot, startServer, waitFor, withBrowser } from './helpers.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

const withPage = (options, body) => withBrowser(options, ({ page }) => body(page));


test('the Model tab shows architecture and context', async () => {
  // Oracle: ../shared/models/MODELS.md (stories260K: llama, ctx 2048, ~0.29 M parameters).
  await withPage({}, async (page) => {
    await page.goto(`${server.base}/`);
    await page.getByRole('tab', { name: 'Model' }).click();
    const info = page.locator('#model-info');
    await waitFor(async () => (await info.locator('dt').count()) > 0, { what: 'model info' });
    const rows = await info.evaluate((list) => {
      const out = {};
      for (const dt of list.querySelectorAll('dt')) out[dt.textContent] = dt.nextElementSibling.textContent;
      return out;
    });
    assert.equal(rows.Architecture, 'llama');
    assert.equal(rows['Context (slot)'], '2048');
    assert.equal(rows['Trained context'], '2048');
    assert.equal(rows.Vocabulary, '512');
    assert.equal(rows['Embedding width'], '64');
    assert.match(rows.Parameters.replace(/\D/g, ''), /^29\d{4}$/);
    // MODELS.md: stories260K has only F32 tensors and no general.file_type.
    assert.equal(rows.Quantization, 'F32 (most weight bytes; the file has no general.file_type), 32.00 bits per weight');
    assert.match(rows.File, /stories260K\.gguf$/);
    assert.equal(await page.locator('#model-name').textContent(), 'stories260K.gguf');
    await screenshot(page, 'model-tab');
  });
});

test('keyboard: Tab reaches Generate, arrows move between tabs', async () => {
  await withPage({}, async (page) => {
    await page.goto(`${server.base}/`);
    await page.locator('#editor').waitFor();
    let reached = false;
    for (let i = 0; i < 10 && !reached; i += 1) {
      await page.keyboard.press('Tab');
      reached = await page.evaluate(() => document.activeElement?.id === 'generate');
    }
    assert.ok(reached, 'Generate is reachable with Tab');
    // Enter on the focused button starts a generation.
    await page.locator('#editor').fill('Once upon a time');
    await page.locator('#generate').focus();
    await page.keyboard.press('Enter');
    await waitFor(async () => (await page.locator('#editor').inputValue()).length > 'Once upon a time'.length,
      { what: 'a generation started from the keyboard' });
    await waitFor(async () => !(await page.locator('#generate').isDisabled()), { what: 'the end of it' });
    await page.getByRole('tab', { name: 'Completion' }).focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-chat');
    assert.ok(await page.locator('#view-chat').isVisible());
    await page.keyboard.press('End');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-model');
    await page.keyboard.press('Home');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'tab-completion');
    await page.keyboard.press('ArrowRight');
    await screenshot(page, 'keyboard-chat-tab');
  });
});

test('dark theme follows the system setting', async () => {
  await withPage({ colorScheme: 'dark' }, async (page) => {
    await page.goto(`${server.base}/`);
    await page.locator('#editor').fill('Once upon a time, there was a little girl named Lily.');
    await page.click('#toggle-settings');
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const fg = await page.evaluate(() => getComputedStyle(document.body).color);
    assert.ok(luminance(bg) < 0.05, `dark background ${bg}`);
    assert.ok(luminance(fg) > 0.6, `light text ${fg}`);
    await screenshot(page, 'dark-theme');
  });
});

test('phone-sized viewport: no horizontal scrolling, controls visible', async () => {
  await withPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }, async (page) => {
    await page.goto(`${server.base}/`);
    await page.locator('#editor').fill('Once upon a time, there was a little girl named Lily.');
    await page.click('#toggle-settings');
    const clipped = await page.locator('#settings').evaluate((panel) => panel.scrollHeight - panel.clientHeight);
    assert.ok(clipped <= 1, `the settings panel hides ${clipped}px behind its own scrollbar`);
    await waitFor(async () => (await page.locator('#token-count').textContent()).startsWith('16 /'),
      { what: 'the token count of the text (15 tokens + BOS)' });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the screen`);
    for (const id of ['generate', 'stop', 'editor', 'set-temperature']) {
      const box = await page.locator(`#${id}`).boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `#${id} fits the width`);
    }
    // Touch targets of at least 44 by 44 px (the check box counts with its label).
    const small = await page.evaluate(() => [...document.querySelectorAll('button, select, input:not([type=checkbox]), label.check')]
      .filter((e) => e.offsetParent !== null)
      .map((e) => ({ e: e.id || e.textContent.trim(), r: e.getBoundingClientRect() }))
      .filter(({ r }) => r.width < 43.5 || r.height < 43.5)
      .map(({ e, r }) => `${e} ${r.width.toFixed(0)}x${r.height.toFixed(0)}`));
    assert.deepEqual(small, [], 'targets smaller than 44 px');
    await screenshot(page, 'phone', { fullPage: true });
  });
});

// Raw HTTP so that neither fetch nor the browser normalizes the path first.
function rawGet(port, path) {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (chunk) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('paths that leave the UI folder get 404', async () => {
  const evil = [
    '/../etc/passwd', '/../../../../etc/passwd', '/%2e%2e/etc/passwd', '/%2E%2E/%2E%2E/etc/passwd',
    '/..%2f..%2f..%2fetc%2fpasswd', '/%2e%2e%2f%2e%2e%2fetc%2fpasswd', '/%252e%252e/etc/passwd',
    '/..%5c..%5cetc%5cpasswd', '/..\\..\\etc\\passwd', '//etc/passwd', '/%2fetc%2fpasswd',
    '/.%2e/.%2e/etc/passwd', '/../tests/browser/helpers.mjs', '/%2e%2e/docs/server.md', '/C:/Windows/win.ini',
  ];
  for (const path of evil) {
    const { status, body } = await rawGet(server.port, path);
    assert.equal(status, 404, path);
    assert.ok(!body.includes('root:') && !body.includes('# HTTP server') && !body.includes('playwright'), path);
  }
  // The same server does serve its own files.
  assert.equal((await rawGet(server.port, '/style.css')).status, 200);
  // And from a page: the browser's own request API.
  await withPage({}, async (page) => {
    await page.goto(`${server.base}/`);
    const response = await page.request.get(`${server.base}/%2e%2e/%2e%2e/etc/passwd`);
    assert.equal(response.status(), 404);
    await page.goto(`${server.base}/%2e%2e/etc/passwd`);
    await screenshot(page, 'traversal-404');
  });
});
