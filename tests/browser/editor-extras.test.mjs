// The completion editor's other features against the real server: snapshots (with their
// settings, at most 20, kept across a reload), bookmarks (settings in the URL hash), live
// "Evaluating n/N" prompt progress from return_progress, full screen, print styles that
// print the whole text, and the PWA manifest.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  editorValue, openEditor, screenshot, startServer, statusText, waitFor,
  withBrowser,
} from './helpers.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });


test('Snapshots keep text and settings across a reload, at most 20', async () => {
  const text = 'Snapshot text: Tom and Sue went to the beach.\nThey saw a crab.';
  await withBrowser({}, async ({ page }) => {
    await openEditor(page, server.base, { temperature: 0.3, n_predict: 77, stop: 'crab' });
    await page.fill('#editor', text);
    await page.click('#toggle-snapshots');
    await page.fill('#snapshot-name', 'beach');
    await page.click('#snapshot-form button[type="submit"]');
    // Different text and settings, then a reload.
    await page.fill('#editor', 'something else entirely');
    await page.click('#toggle-settings');
    await page.fill('#set-temperature', '1.2');
    await page.fill('#set-n_predict', '5');
    await page.reload();
    await page.locator('#editor').waitFor();
    assert.equal(await editorValue(page), 'something else entirely', 'the text itself is remembered too');
    await page.click('#toggle-snapshots');
    const item = page.locator('#snapshot-list li', { hasText: 'beach' });
    assert.equal(await item.count(), 1);
    await item.getByRole('button', { name: 'Restore snapshot beach' }).click();
    assert.equal(await editorValue(page), text);
    await page.click('#toggle-settings');
    assert.equal(await page.locator('#set-temperature').inputValue(), '0.3');
    assert.equal(await page.locator('#set-n_predict').inputValue(), '77');
    assert.equal(await page.locator('#set-stop').inputValue(), 'crab');
    await page.click('#toggle-settings');
    // 21 more: the oldest ones go, 20 stay, the newest first.
    for (let i = 1; i <= 21; i += 1) {
      await page.fill('#snapshot-name', `s${i}`);
      await page.click('#snapshot-form button[type="submit"]');
    }
    assert.equal(await page.locator('#snapshot-list li').count(), 20);
    assert.equal(await page.locator('#snapshot-count').textContent(), '20 of 20');
    assert.equal(await page.locator('#snapshot-list li span').first().textContent(), 's21');
    assert.equal(await page.locator('#snapshot-list li', { hasText: 'beach' }).count(), 0);
    assert.match(await statusText(page), /the oldest snapshot “s1” was dropped/);
    await screenshot(page, 'snapshots');
    await page.getByRole('button', { name: 'Delete snapshot s21' }).click();
    assert.equal(await page.locator('#snapshot-list li').count(), 19);
  });
});

test('Bookmark: the settings go into the URL hash, and a hash sets them', async () => {
  await withBrowser({}, async ({ page }) => {
    await openEditor(page, server.base, { temperature: 0.25, n_predict: 9, stop: 'cat,\\n' });
    await page.click('#bookmark');
    const hash = new URLSearchParams(new URL(page.url()).hash.slice(1));
    assert.equal(hash.get('temperature'), '0.25');
    assert.equal(hash.get('n_predict'), '9');
    assert.equal(hash.get('stop'), 'cat,\\n');
    assert.match(await statusText(page), /settings are in the page address/);
    // A fresh browser opening a bookmarked address gets those settings.
    const bodies = [];
    await withBrowser({}, async ({ page: other }) => {
      other.on('request', (r) => { if (r.url().endsWith('/completion')) bodies.push(JSON.parse(r.postData())); });
      await other.goto(`${server.base}/#temperature=0&n_predict=7&use_stop=false`);
      await other.locator('#editor').fill('The cat');
      await other.click('#generate');
      await waitFor(async () => /stop: /.test(await statusText(other)), { what: 'the completion' });
      assert.equal(bodies[0].temperature, 0);
      assert.equal(bodies[0].n_predict, 7);
      assert.match(await statusText(other), /^7 tokens/);
      assert.equal(await other.locator('#tokens-preset option:checked').textContent(), 'tokens: 7');
    });
  });
});

test('Live "Evaluating n/N" while a long prompt is evaluated (return_progress)', async () => {
  // Small batches with a pause after each make the prompt phase last long enough to watch.
  const slow = await startServer({ extraArgs: ['-b', '8', '--batch-sleep-ms', '120'] });
  try {
    await withBrowser({}, async ({ page }) => {
      await openEditor(page, slow.base, { temperature: 0, n_predict: 4 });
      const prompt = 'Once upon a time, there was a little girl named Lily. She liked to play outside in the sun with her dog Max.';
      const n = (await (await fetch(`${slow.base}/tokenize`, {
        method: 'POST', body: JSON.stringify({ content: prompt, add_special: true }),
      })).json()).tokens.length;
      await page.fill('#editor', prompt);
      await page.evaluate(() => {
        window.__statuses = [];
        const el = document.getElementById('completion-status');
        new MutationObserver(() => window.__statuses.push(el.textContent))
          .observe(el, { childList: true, characterData: true, subtree: true });
      });
      await page.click('#generate');
      await waitFor(async () => /stop: /.test(await statusText(page)), { what: 'the completion' });
      const seen = (await page.evaluate(() => window.__statuses))
        .map((s) => /^Evaluating (\d+)\/(\d+)/.exec(s)).filter(Boolean).map((m) => [Number(m[1]), Number(m[2])]);
      const steps = [...new Set(seen.map(([done]) => done))];
      assert.ok(steps.length >= 3, `several progress steps: ${JSON.stringify(seen)}`);
      for (const [, total] of seen) assert.equal(total, n, 'N is the prompt length in tokens');
      for (let i = 1; i < steps.length; i += 1) assert.ok(steps[i] > steps[i - 1], 'n only grows');
      assert.equal(steps.at(-1), n, 'the last step is the whole prompt');
      // The elapsed time shows while it runs.
      assert.ok((await page.evaluate(() => window.__statuses)).some((s) => /^Evaluating \d+\/\d+ · \d+\.\d s$/.test(s)));
      // The live region for screen readers did not get every step.
      assert.doesNotMatch(await page.locator('#completion-announce').textContent(), /Evaluating/);
    });
  } finally {
    await slow.stop();
  }
});

test('Full screen enlarges the editor and hides the header, and toggles back', async () => {
  await withBrowser({}, async ({ page }) => {
    await openEditor(page, server.base);
    const before = (await page.locator('#editor').boundingBox()).height;
    await page.click('#fullscreen');
    assert.equal(await page.locator('#fullscreen').getAttribute('aria-pressed'), 'true');
    assert.ok(await page.locator('header.bar').isHidden());
    assert.ok((await page.locator('#editor').boundingBox()).height > before, 'the editor got taller');
    await screenshot(page, 'completion-fullscreen');
    await page.click('#fullscreen');
    assert.equal(await page.locator('#fullscreen').getAttribute('aria-pressed'), 'false');
    assert.ok(await page.locator('header.bar').isVisible());
  });
});

test('Printing prints the whole text, not the visible part of the text box', async () => {
  await withBrowser({}, async ({ page }) => {
    await openEditor(page, server.base);
    const lines = Array.from({ length: 150 }, (_, i) => `Line ${i + 1}: Tom and Sue walked to the shop.`);
    await page.fill('#editor', lines.join('\n'));
    await page.emulateMedia({ media: 'print' });
    assert.ok(await page.locator('#editor').isHidden(), 'the scrolled box is not printed');
    assert.ok(await page.locator('header.bar').isHidden());
    assert.ok(await page.locator('#generate').isHidden());
    const printed = page.locator('#print-text');
    assert.ok(await printed.isVisible());
    assert.equal(await printed.textContent(), lines.join('\n'));
    const box = await printed.boundingBox();
    assert.ok(box.height > 150 * 14, `all 150 lines are laid out (${box.height}px)`);
    // A real PDF of the page runs over several pages and ends with the last line.
    const pdf = await page.pdf({ format: 'A4' });
    const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) || []).length;
    assert.ok(pages >= 3, `${pages} pages`);
    await page.emulateMedia({ media: 'screen' });
    assert.ok(await page.locator('#print-text').isHidden());
  });
});

test('PWA manifest: linked, valid, icon served', async () => {
  await withBrowser({}, async ({ page }) => {
    await page.goto(`${server.base}/`);
    const href = await page.locator('link[rel="manifest"]').getAttribute('href');
    const response = await page.request.get(new URL(href, `${server.base}/`).href);
    assert.equal(response.status(), 200);
    const manifest = await response.json();
    assert.equal(manifest.name, 'mmojo-server');
    assert.equal(manifest.display, 'standalone');
    assert.equal(manifest.start_url, './');
    assert.ok(manifest.icons.length >= 1);
    for (const icon of manifest.icons) {
      const file = await page.request.get(new URL(icon.src, `${server.base}/`).href);
      assert.equal(file.status(), 200, icon.src);
      assert.equal(file.headers()['content-type'], icon.type);
      assert.match(await file.text(), /^<svg /);
    }
  });
});
