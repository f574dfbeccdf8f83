// The loading page: while the model loads, `/` serves loading.html (503) which polls
// /health, shows the progress, and turns into the UI by itself once the server is ready.
//
// The server has no option that makes loading slow (the loader maps the file, so even a big
// model loads at once, and --batch-sleep-ms only slows prompt batches). So the page is
// opened through a small HTTP relay on 127.0.0.1 that first forwards to a real server whose
// model is a FIFO (its loader blocks in open(): a genuine loading state, genuine 503s, the
// genuine loading page) and, when the test says the load is done, to a real server that
// has loaded stories260K. If the server gains a `--load-delay-ms` option, the test uses a
// single server with it instead.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  freePort, launchBrowser, screenshot, serverBinary, startServer, waitFor,
} from './helpers.mjs';

// Forwards every request to `target().port` and counts the paths it saw.
async function startRelay(target) {
  const seen = [];
  const relay = createServer((req, res) => {
    seen.push(req.url);
    const upstream = request({
      host: '127.0.0.1', port: target().port, method: req.method, path: req.url, headers: req.headers,
    }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => { res.destroy(); });
    req.pipe(upstream);
  });
  const port = await freePort();
  await new Promise((done) => relay.listen(port, '127.0.0.1', done));
  return { port, base: `http://127.0.0.1:${port}`, seen, close: () => new Promise((done) => relay.close(done)) };
}

const hasDelayFlag = () => execFileSync(serverBinary(), ['--help'], { encoding: 'utf8' }).includes('--load-delay-ms');

test('the loading page shows progress and turns into the UI', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'mmojo-loading-'));
  const servers = [];
  let relay = null;
  let loaded = false;
  const browser = await launchBrowser();
  const { page } = browser;
  try {
    let loadingServer;
    let readyServer;
    if (hasDelayFlag()) {
      loadingServer = await startServer({ ready: false, extraArgs: ['--load-delay-ms', '4000'] });
      readyServer = loadingServer;
      servers.push(loadingServer);
    } else {
      const fifo = join(folder, 'model.gguf');
      execFileSync('mkfifo', [fifo]);
      loadingServer = await startServer({ model: fifo, ready: false });
      servers.push(loadingServer);
      readyServer = await startServer();
      servers.push(readyServer);
    }
    relay = await startRelay(() => (loaded ? readyServer : loadingServer));

    const health = await fetch(`${relay.base}/health`);
    assert.equal(health.status, 503);
    const error = (await health.json()).error;
    assert.equal(error.message, 'Loading model');
    assert.ok(error.progress >= 0 && error.progress <= 1);

    const response = await page.goto(`${relay.base}/`);
    assert.equal(response.status(), 503);
    assert.equal(await page.title(), 'mmojo-server: loading');
    const bar = page.getByRole('progressbar', { name: 'Model loading progress' });
    assert.ok(await bar.isVisible());
    await waitFor(async () => /^Loading the model… \d+%$/.test(await page.locator('#message').textContent()),
      { what: 'the progress message' });
    const percent = Number(await bar.getAttribute('aria-valuenow'));
    assert.ok(percent >= 0 && percent <= 100);
    assert.equal(await page.locator('#editor').count(), 0);
    // It keeps polling while the model loads.
    const polls = () => relay.seen.filter((path) => path === '/health').length;
    const before = polls();
    await waitFor(() => polls() >= before + 2, { what: 'more /health polls' });
    await screenshot(page, 'loading-page');

    loaded = true;  // (with --load-delay-ms the server gets there by itself)
    await page.locator('#editor').waitFor({ timeout: 20000 });
    assert.equal(await page.title(), 'mmojo-server');
    await waitFor(async () => (await page.locator('#token-count').textContent()).includes('/ 2048 tokens'),
      { what: 'the UI talking to the loaded model' });
    assert.equal((await fetch(`${relay.base}/health`)).status, 200);
    await screenshot(page, 'loading-done');
    assert.deepEqual(browser.offHost, []);
    assert.deepEqual(browser.errors, []);
  } finally {
    await browser.close();
    if (relay) await relay.close();
    for (const server of servers) {
      // A loader blocked on the FIFO cannot finish a clean shutdown: end it outright.
      if (server.proc.exitCode === null && server.log().includes('model loaded')) await server.stop();
      else server.proc.kill('SIGKILL');
      await server.exited;
    }
    rmSync(folder, { recursive: true, force: true });
  }
});

test('a failed load says why (the server answers 500 with the reason)', async () => {
  // The server's /health after a failed load: error_body(kServer, "Model failed to load: " +
  // reason) with status 500 (src/server/routes_misc.cpp). The real server exits right after
  // (the next test), so the page is shown that answer through a route.
  const server = await startServer();
  const browser = await launchBrowser();
  const { page } = browser;
  try {
    let polls = 0;
    const reason = "Model failed to load: /models/x.gguf: unsupported architecture 'mamba' (supported: llama, qwen2)";
    await page.route('**/health', (route) => {
      polls += 1;
      return route.fulfill({ status: 500, contentType: 'application/json',
        body: JSON.stringify({ error: { code: 500, message: reason, type: 'server_error' } }) });
    });
    await page.goto(`${server.base}/loading.html`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.equal(await alert.textContent(), reason);
    assert.equal(await page.locator('#message').textContent(), 'The model did not load.');
    assert.ok(await page.getByRole('progressbar').isHidden());
    const seen = polls;
    await new Promise((done) => setTimeout(done, 1000));
    assert.equal(polls, seen, 'it stops polling: a failed load does not recover');
    await screenshot(page, 'loading-failed');
    assert.deepEqual(browser.offHost, []);
    assert.deepEqual(browser.errors, []);
  } finally {
    await browser.close();
    await server.stop();
  }
});

test('a real failed load: the page says so instead of waiting forever', async () => {
  const folder = mkdtempSync(join(tmpdir(), 'mmojo-loading-'));
  const fifo = join(folder, 'model.gguf');
  execFileSync('mkfifo', [fifo]);
  const server = await startServer({ model: fifo, ready: false });
  const browser = await launchBrowser();
  const { page } = browser;
  try {
    await page.goto(`${server.base}/`);
    await waitFor(async () => /^Loading the model… \d+%$/.test(await page.locator('#message').textContent()),
      { what: 'the loading page' });
    // A writer unblocks the loader's open(); mapping a FIFO then fails ("not a regular
    // file"): a genuine failed load, which the server reports before it exits.
    try {
      writeFileSync(fifo, 'not a model\n');
    } catch (err) {
      if (err.code !== 'EPIPE') throw err;  // the loader may close its end before the write
    }
    const { code } = await server.exited;
    assert.equal(code, 1);
    assert.match(server.log(), /cannot load model: .*not a regular file/);
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 10000 });
    // The page shows the server's reason when it caught the 500 in the moment before the
    // exit, and otherwise that the server stopped while loading.
    assert.match(await alert.textContent(), /^Model failed to load: .*not a regular file$|^The server stopped while loading the model/);
    await screenshot(page, 'loading-failed-real');
    assert.deepEqual(browser.offHost, []);
  } finally {
    await browser.close();
    if (server.proc.exitCode === null) server.proc.kill('SIGKILL');
    rmSync(folder, { recursive: true, force: true });
  }
});
