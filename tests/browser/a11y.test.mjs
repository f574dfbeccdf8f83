// Accessibility: an axe-core scan (WCAG 2.0/2.1/2.2 levels A and AA) of every view and
// state, light and dark, desktop and phone, with no violations; field borders at 3:1 and
// placeholders at 4.5:1 (WCAG 1.4.11 and 1.4.3, which axe does not measure); the editor and
// the chat usable from the keyboard alone.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { openChat, replyDone, routeChat, send, sseBody } from './chat-helpers.mjs';
import {
  contrast, launchBrowser, openEditor, screenshot, startServer, waitFor,
} from './helpers.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

async function axe(page, what) {
  // Injected from the npm package (a script tag with the file's text: no network).
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE });
  const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), TAGS);
  const problems = result.violations.map((v) => `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('\n    ')}`);
  assert.deepEqual(problems, [], `axe violations in ${what}`);
  assert.ok(result.passes.length > 10, `axe ran its checks on ${what}`);
}

const CANNED = sseBody([
  { reasoning_content: 'Thinking about tables.' },
  '## Answer\n\nA **table**:\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```js\nconst x = 1; // one\n```\n\nand $x^2$.',
]);
const TOOL = sseBody([{ tool_calls: [{ index: 0, id: 'c1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] }]);

for (const scheme of ['light', 'dark']) {
  for (const [size, viewport] of [['desktop', {}], ['phone', PHONE]]) {
    test(`axe: every view, ${scheme}, ${size}`, async () => {
      const browser = await launchBrowser({ colorScheme: scheme, ...viewport });
      const { page } = browser;
      try {
        await openEditor(page, server.base, { n_predict: 8 });
        await page.fill('#editor', 'Once upon a time');
        await page.click('#generate');
        await waitFor(async () => /stop: /.test(await page.locator('#completion-status').textContent()), { what: 'a completion' });
        await axe(page, 'the editor');
        await page.click('#toggle-settings');
        await page.click('#toggle-snapshots');
        await page.fill('#snapshot-name', 'one');
        await page.click('#snapshot-form button[type="submit"]');
        await axe(page, 'the editor with settings and snapshots open');
        await routeChat(page, [CANNED, TOOL, (route) => route.fulfill({ status: 500, contentType: 'application/json',
          body: JSON.stringify({ error: { code: 500, message: 'out of memory', type: 'server_error' } }) })]);
        await page.getByRole('tab', { name: 'Chat' }).click();
        await send(page, 'Show a table');
        await replyDone(page, waitFor, 1);
        await page.locator('.message.assistant details.reasoning summary').click();
        await send(page, 'Call a tool');
        await replyDone(page, waitFor, 2);
        await send(page, 'Fail');
        await page.getByRole('alert').waitFor();
        if (size === 'phone') await page.click('#toggle-conversations');
        await page.click('#toggle-chat-settings');
        await axe(page, 'the chat with markdown, reasoning, a tool call, an error, settings and the list');
        await screenshot(page, `a11y-chat-${scheme}-${size}`, { fullPage: size === 'phone' });
        await page.getByRole('tab', { name: 'Model' }).click();
        await waitFor(async () => (await page.locator('#model-info dt').count()) > 0, { what: 'model info' });
        await axe(page, 'the model panel');
        await page.goto(`${server.base}/loading.html`);
        await page.route('**/health', (route) => route.fulfill({ status: 503, contentType: 'application/json',
          body: JSON.stringify({ error: { code: 503, message: 'Loading model', type: 'unavailable_error', progress: 0.4 } }) }));
        await waitFor(async () => /40%/.test(await page.locator('#message').textContent()), { what: 'the loading page' });
        await axe(page, 'the loading page');
        assert.deepEqual(browser.offHost, []);
        assert.deepEqual(browser.errors, []);
      } finally {
        await browser.close();
      }
    });
  }
}


for (const scheme of ['light', 'dark']) {
  test(`field borders 3:1 and placeholders 4.5:1 (${scheme})`, async () => {
    const browser = await launchBrowser({ colorScheme: scheme });
    const { page } = browser;
    try {
      await openChat(page, server.base);
      const fields = await page.evaluate(() => ['chat-input', 'chat-set-temperature', 'editor', 'set-temperature'].map((id) => {
        const e = document.getElementById(id);
        const s = getComputedStyle(e);
        // The colour behind the field: the nearest ancestor with an opaque background.
        let behind = 'rgb(255, 255, 255)';
        for (let p = e.parentElement; p; p = p.parentElement) {
          const bg = getComputedStyle(p).backgroundColor;
          if (!/rgba\(.*, 0\)$/.test(bg) && bg !== 'transparent') { behind = bg; break; }
        }
        return { id, border: s.borderTopColor, background: s.backgroundColor, behind,
          placeholder: getComputedStyle(e, '::placeholder').color };
      }));
      for (const f of fields) {
        assert.ok(contrast(f.border, f.background) >= 3, `${f.id} border vs its fill: ${contrast(f.border, f.background).toFixed(2)}`);
        assert.ok(contrast(f.border, f.behind) >= 3, `${f.id} border vs the page: ${contrast(f.border, f.behind).toFixed(2)}`);
        assert.ok(contrast(f.placeholder, f.background) >= 4.5, `${f.id} placeholder: ${contrast(f.placeholder, f.background).toFixed(2)}`);
      }
    } finally {
      await browser.close();
    }
  });
}

test('keyboard only: complete, stop, chat, reach every control with Tab', async () => {
  const browser = await launchBrowser();
  const { page } = browser;
  try {
    await openEditor(page, server.base, { n_predict: 6, temperature: 0 });
    await page.locator('#editor').focus();
    await page.keyboard.type('The little dog');
    await page.keyboard.press('Enter');
    await waitFor(async () => /stop: limit/.test(await page.locator('#completion-status').textContent()), { what: 'a completion' });
    // Tab order reaches each toolbar control, with a visible focus ring.
    const reached = new Set();
    await page.locator('#tab-completion').focus();
    for (let i = 0; i < 30; i += 1) {
      await page.keyboard.press('Tab');
      const info = await page.evaluate(() => {
        const e = document.activeElement;
        return { id: e.id, outline: getComputedStyle(e).outlineStyle };
      });
      reached.add(info.id);
      if (['generate', 'bookmark', 'editor'].includes(info.id)) assert.notEqual(info.outline, 'none', `${info.id} shows focus`);
    }
    for (const id of ['generate', 'temp-preset', 'tokens-preset', 'toggle-settings', 'toggle-snapshots', 'bookmark', 'fullscreen', 'copy-all', 'editor']) {
      assert.ok(reached.has(id), `Tab reaches #${id}`);
    }
    // To the chat with the arrow keys of the tab list, then write and send with Enter.
    await page.locator('#tab-completion').focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'tab-chat');
    await page.locator('#chat-input').focus();
    await page.keyboard.type('Hello');
    await page.keyboard.press('Enter');
    await replyDone(page, waitFor, 1);
    // The message actions are buttons in the Tab order.
    let found = false;
    for (let i = 0; i < 40 && !found; i += 1) {
      await page.keyboard.press('Shift+Tab');
      found = await page.evaluate(() => document.activeElement?.getAttribute('aria-label') === 'Regenerate the last reply');
    }
    assert.ok(found, 'Regenerate is reachable with Shift+Tab');
    await screenshot(page, 'keyboard-chat');
    assert.deepEqual(browser.errors, []);
  } finally {
    await browser.close();
  }
});

test('the axe scan catches planted problems (so a clean scan means something)', async () => {
  const browser = await launchBrowser();
  const { page } = browser;
  try {
    await page.goto(`${server.base}/`);
    await page.evaluate(() => {
      const bad = document.createElement('div');
      bad.innerHTML = '<button></button><p style="color:#bbb;background:#fff">faint text</p>';
      document.querySelector('#view-completion').append(bad);
    });
    await page.addScriptTag({ path: AXE });
    const result = await page.evaluate((tags) => window.axe.run(document, { runOnly: { type: 'tag', values: tags } }), TAGS);
    const ids = result.violations.map((v) => v.id);
    assert.ok(ids.includes('button-name'), ids.join());
    assert.ok(ids.includes('color-contrast'), ids.join());
  } finally {
    await browser.close();
  }
});
