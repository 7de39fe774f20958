// What the console's browser tests share (test.mjs runs them): the fake
// cluster of cluster.py, `kubectl approve ui` processes, the browser and its
// page helpers, and the case registry.

import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..', '..');
export const PLUGIN = process.env.PLUGIN || path.join(ROOT, 'plugin', 'kubectl-approve');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const NOW = new Date('2024-10-01T10:12:00Z'); // the fixture's runs started at 09:05 and 09:35
export const NOW_S = String(NOW.getTime() / 1000);
// the keys of the fixture's runs: the approve-step Task's default, the
// TaskRun's name and UID (cluster.py's key())
export const K42 = 'release-42-approval-af2e2736-2d94-5127-8288-f6225983bb50';
export const KH7 = 'hotfix-7-approval-38d5201c-204c-55bb-8c94-0d0dce301dfc';
export const KPLAIN = 'deploy-approval-x7k2p-77a5c226-906a-5691-abb8-8171f07610ac';

// ------------------------------------------------------------------ cluster
const cluster = spawn('python3', [path.join(HERE, 'cluster.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: cluster.stdout });
const waiting = [];
lines.on('line', (l) => waiting.shift()?.(JSON.parse(l)));
const nextLine = () => new Promise((r) => waiting.push(r));
export const info = await nextLine();
export async function fake(op, args = {}) {
  const answer = nextLine();
  cluster.stdin.write(JSON.stringify({ op, ...args }) + '\n');
  const a = await answer;
  if (a.error) throw new Error(`fake API ${op}: ${a.error}`);
  return a.ok;
}
export const cm = async (ns = 'ci', name = 'approve-cm') => (await fake('get', { resource: 'configmaps', ns, name })).data || {};

// A vote as the plugin writes it with a comment.
export const voteValue = (decision, comment) => `{"decision":"${decision}","comment":${JSON.stringify(comment)}}`;

// ------------------------------------------------------------------ kubectl approve
export const uis = new Set();
// Starts `kubectl approve ui --no-browser ARGS` as USER (with ui.env if set); resolves once it
// printed its address. Its own process group, as a terminal's job is.
export function ui(user, ...args) {
  const browser = args[0] === 'browser'; // ui(USER, 'browser', ...): without --no-browser
  if (browser) args.shift();
  const proc = spawn(PLUGIN, ['ui', ...(browser ? [] : ['--no-browser']), `--kubeconfig=${info.kubeconfig}`, `--context=${user}`, ...args],
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: ui.env || process.env });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const exited = new Promise((r) => proc.on('exit', (code, sig) => r({ code, sig })));
  const u = { proc, exited, stderr: () => err };
  uis.add(u);
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: proc.stdout });
    rl.once('line', (line) => {
      const m = /^approve-step console: (http:\/\/(?:127\.0\.0\.1|\[::1\]):(\d+)\/console\/#secret=([0-9a-f]{32})&.*)$/.exec(line);
      if (!m) return reject(new Error(`first line: ${line}`));
      Object.assign(u, { url: m[1], port: Number(m[2]), secret: m[3], line });
      resolve(u);
    });
    exited.then(({ code }) => reject(new Error(`kubectl approve ui exited ${code}: ${err}`)));
    setTimeout(() => reject(new Error(`no address within 20 s: ${err}`)), 20000);
  });
}
export async function stop(u, signal = 'SIGINT') {
  try { process.kill(-u.proc.pid, signal); } catch { /* gone */ }
  const r = await Promise.race([u.exited, sleep(10000).then(() => ({ code: 'still running' }))]);
  uis.delete(u);
  return r;
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function run(args, env = {}) {
  return spawnSync(PLUGIN, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30000 });
}

export function request(port, p, { method = 'GET', host, address = '127.0.0.1' } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: address, port, path: p, method, agent: false, headers: host ? { Host: host } : {} }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

// ------------------------------------------------------------------ browser
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'console-chromium-'));
export const browser = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM, headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  locale: 'en-GB', timezoneId: 'UTC', viewport: { width: 1000, height: 900 },
});

// Opens the console at U's address as a fresh page with the clock at NOW;
// collects the page's errors (the test fails on any it did not expect).
export async function open(u, { waitLive = true } = {}) {
  const page = await browser.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  await page.clock.setFixedTime(NOW);
  await page.goto(u.url);
  if (waitLive) await page.locator('#live', { hasText: 'Live' }).waitFor({ timeout: 10000 });
  return page;
}
export const card = (page, name) => page.getByRole('article', { name: new RegExp(`^${name} `) });
export const text = async (loc) => (await loc.innerText()).replace(/\s+/g, ' ').trim();
export async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// ------------------------------------------------------------------ cases
// test(NAME, FN) registers a case; test.mjs runs them in order.
export const cases = [];
export const test = (name, fn) => cases.push({ name, fn });

// Closes the browser and the fake cluster, once every case ran.
export async function finish() {
  await browser.close();
  fs.rmSync(profile, { recursive: true, force: true });
  cluster.stdin.end();
  await new Promise((r) => cluster.on('exit', r));
}
