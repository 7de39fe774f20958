// Browser tests of the approver console: `kubectl approve ui --no-browser`
// (the real plugin, the real kubectl proxy) in front of the fake API server
// of cluster.py, driven in Debian's Chromium by playwright-core. Prints one
// PASS/FAIL line per case and "N passed, N failed"; writes the screenshots
// docs/console.png and docs/console-dark-phone.png from the fixture.
//
//   node test.mjs [CASE-SUBSTRING...]
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tally } from '../lib/tally.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const PLUGIN = process.env.PLUGIN || path.join(ROOT, 'plugin', 'kubectl-approve');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const NOW = new Date('2024-10-01T10:12:00Z'); // the fixture's runs started at 09:05 and 09:35
const NOW_S = String(NOW.getTime() / 1000);
const only = process.argv.slice(2);

// ------------------------------------------------------------------ cluster
const cluster = spawn('python3', [path.join(HERE, 'cluster.py')], { stdio: ['pipe', 'pipe', 'inherit'] });
const lines = createInterface({ input: cluster.stdout });
const waiting = [];
lines.on('line', (l) => waiting.shift()?.(JSON.parse(l)));
const nextLine = () => new Promise((r) => waiting.push(r));
const info = await nextLine();
async function fake(op, args = {}) {
  const answer = nextLine();
  cluster.stdin.write(JSON.stringify({ op, ...args }) + '\n');
  const a = await answer;
  if (a.error) throw new Error(`fake API ${op}: ${a.error}`);
  return a.ok;
}
const cm = async (ns = 'ci', name = 'approve-cm') => (await fake('get', { resource: 'configmaps', ns, name })).data || {};

// ------------------------------------------------------------------ kubectl approve
const uis = new Set();
// Starts `kubectl approve ui --no-browser ARGS` as USER (with ui.env if set); resolves once it
// printed its address. Its own process group, as a terminal's job is.
function ui(user, ...args) {
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
async function stop(u, signal = 'SIGINT') {
  try { process.kill(-u.proc.pid, signal); } catch { /* gone */ }
  const r = await Promise.race([u.exited, sleep(10000).then(() => ({ code: 'still running' }))]);
  uis.delete(u);
  return r;
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function run(args, env = {}) {
  return spawnSync(PLUGIN, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 30000 });
}

function request(port, p, { method = 'GET', host, address = '127.0.0.1' } = {}) {
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
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM, headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  locale: 'en-GB', timezoneId: 'UTC', viewport: { width: 1000, height: 900 },
});

// Opens the console at U's address as a fresh page with the clock at NOW;
// collects the page's errors (the test fails on any it did not expect).
async function open(u, { waitLive = true } = {}) {
  const page = await browser.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  await page.clock.setFixedTime(NOW);
  await page.goto(u.url);
  if (waitLive) await page.locator('#live', { hasText: 'Live' }).waitFor({ timeout: 10000 });
  return page;
}
const card = (page, name) => page.getByRole('article', { name: new RegExp(`^${name} `) });
const text = async (loc) => (await loc.innerText()).replace(/\s+/g, ' ').trim();
async function until(what, fn, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// ------------------------------------------------------------------ cases
const cases = [];
const test = (name, fn) => cases.push({ name, fn });

test('who you are, the waiting list and its details', async () => {
  const u = await ui('alice');
  const page = await open(u);
  assert.match(await text(page.locator('#who')), /^You are alice@example\.com \(groups: release-approvers\), in namespace ci\.$/);
  assert.equal(await page.locator('#waiting-count').textContent(), '2');
  const r42 = card(page, 'release-42');
  await r42.locator('.progress').waitFor();
  const t = await text(r42);
  for (const want of ['Namespace ci', 'Requested by dave@example.com', 'Waiting since 1 Oct 2024, 09:05 (1 h 7 min ago)',
    'Time left 22 h 53 min (then refused)',
    'Needs 2 approvals from alice@example.com, bob@example.com, carol@example.com, not dave@example.com (the requester)',
    'Votes go to ConfigMap ci/approve-cm, key release-42-approval.NAME',
    '0 of 2 approvals; still needed: 2 more from alice@example.com, bob@example.com, carol@example.com.']) {
    assert.ok(t.includes(want), `release-42 card lacks "${want}": ${t}`);
  }
  await r42.getByText('TaskRun and parameters').click();
  assert.ok((await text(r42.locator('.params'))).includes('TaskRun release-42-approval Pod release-42-approval-pod timeout 24h configmap approve-cm approvals 2'));
  const h7 = await text(card(page, 'hotfix-7'));
  assert.ok(h7.includes('Time left 1 h 23 min (then refused)'), h7);
  assert.ok(h7.includes('1 of 2 approvals (carol@example.com); still needed: 1 more from anyone but dave@example.com.'), h7);
  assert.ok(h7.includes('carol@example.com approved: Checked the diff; LGTM'), h7);
  assert.ok(h7.includes('dave@example.com approved: my own fix, looks fine (not counted: the requester)'), h7);
  // the finished run: its outcome, under Decided; the build TaskRun: not an approval
  const decided = await text(page.locator('#decided'));
  assert.ok(decided.includes('Approved by alice@example.com, bob@example.com'), decided);
  assert.equal(await page.getByRole('article').count(), 3);
  assert.equal(await card(page, 'release-42').getByRole('button', { name: 'Approve' }).count(), 1);
  assert.deepEqual(page.errors, []);
  await page.close();
  await stop(u);
});

const COMMENT = 'Ship it — "v1.2" \\ checked\tby QA\nsecond line <b>bold</b>';
const voteValue = (decision, comment) => `{"decision":"${decision}","comment":${JSON.stringify(comment)}}`;

test('approve with a comment writes the vote as kubectl approve does, nudges the pod, shows 1 of 2', async () => {
  await fake('reset');
  const u = await ui('alice');
  const page = await open(u);
  const r42 = card(page, 'release-42');
  await r42.getByLabel('Comment').fill(COMMENT);
  await r42.getByRole('button', { name: 'Approve' }).click();
  const confirm = r42.getByRole('group', { name: 'Confirm your vote' });
  assert.equal(await text(confirm.locator('p')),
    'Approve release-42 as alice@example.com? This writes release-42-approval.alice_40example.com to ConfigMap ci/approve-cm. A vote is final.');
  await confirm.getByRole('button', { name: 'Yes, approve' }).click();
  await r42.locator('.note.ok').waitFor();
  assert.equal(await text(r42.locator('.note')), 'You approved as alice@example.com: wrote release-42-approval.alice_40example.com to ConfigMap ci/approve-cm. Nudged pod ci/release-42-approval-pod: the step sees your vote within seconds.');
  const data = await cm();
  assert.equal(data['release-42-approval.alice_40example.com'], voteValue('approved', COMMENT));
  const pod = await fake('get', { resource: 'pods', ns: 'ci', name: 'release-42-approval-pod' });
  assert.equal(pod.metadata.annotations['approve-step/nudge'], NOW_S);
  assert.equal(pod.metadata.annotations['tekton.dev/ready'], 'READY'); // a merge, not a replace
  await until('the tally', async () => (await text(r42)).includes('1 of 2 approvals (alice@example.com); still needed: 1 more from bob@example.com, carol@example.com.'));
  assert.ok((await text(r42)).includes('You already voted: approved. A vote is final.'));
  assert.equal(await r42.getByRole('button', { name: 'Approve' }).count(), 0);
  const mine = r42.locator('.vote-list li', { hasText: 'alice@example.com' });
  assert.equal(await mine.locator('q').textContent(), COMMENT);
  // the same vote by the plugin, as bob, through the real kubectl: the same bytes
  if (spawnSync('kubectl', ['auth', 'whoami', '--help']).status === 0) {
    const r = run(['release-42', '-m', COMMENT, '--yes', `--kubeconfig=${info.kubeconfig}`, '--context=bob']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await cm())['release-42-approval.bob_40example.com'], data['release-42-approval.alice_40example.com']);
    const patches = (await fake('requests')).filter((q) => q.method === 'PATCH' && q.path.endsWith('/configmaps/approve-cm'));
    assert.equal(patches.length, 2);
    assert.deepEqual(JSON.parse(patches[0].body), JSON.parse(patches[1].body.replace('bob_40', 'alice_40')));
  } else {
    console.log('  note: this kubectl has no "auth whoami" (1.28+): bob votes through the fake, not the plugin');
    await fake('patch', { resource: 'configmaps', ns: 'ci', name: 'approve-cm',
      patch: { data: { 'release-42-approval.bob_40example.com': voteValue('approved', COMMENT) } } });
  }
  // bob's vote reaches the page without a reload (the ConfigMap is re-read)
  await until('2 of 2', async () => (await text(r42)).includes('Approved by alice@example.com, bob@example.com (2 of 2).'));
  assert.deepEqual(page.errors, []);
  await page.close();
  await stop(u);
});

test('a single plain decision in an unlabelled ConfigMap: the warning, and the plugin\'s plain value', async () => {
  await fake('reset');
  const u = await ui('alice', '-n', 'plain');
  const page = await open(u);
  const d = card(page, 'deploy-approval-x7k2p');
  await d.locator('.progress').waitFor();
  const t = await text(d);
  for (const want of ['ConfigMap plain/approvals is not labelled approve-step/gate=true: the admission policy does not protect its votes.',
    'No decision yet (key deploy-approval-x7k2p): one approval or refusal decides.', 'Time left 38 min (then approved)',
    'Needs one decision (no quorum)', 'Votes go to ConfigMap plain/approvals, key deploy-approval-x7k2p']) {
    assert.ok(t.includes(want), `lacks "${want}": ${t}`);
  }
  await d.getByLabel('Comment').fill('go');
  await d.getByRole('button', { name: 'Approve' }).click();
  await d.getByRole('button', { name: 'Yes, approve' }).click();
  await d.locator('.note.ok').waitFor();
  assert.equal((await cm('plain', 'approvals'))['deploy-approval-x7k2p'], '{"decision":"approved","approver":"alice@example.com","comment":"go"}');
  await until('the decision', async () => (await text(d)).includes('Decision: approved (key deploy-approval-x7k2p).'));
  assert.ok((await text(d)).includes('You already voted: approved. A vote is final.'));
  await page.close();
  await stop(u);
});

test('refuse writes a refusal and the run shows refused', async () => {
  await fake('reset');
  const u = await ui('bob');
  const page = await open(u);
  const h7 = card(page, 'hotfix-7');
  await h7.getByLabel('Comment').fill('not on a Friday');
  await h7.getByRole('button', { name: 'Refuse' }).click();
  await h7.getByRole('button', { name: 'Yes, refuse' }).click();
  await h7.locator('.note.ok').waitFor();
  assert.equal((await cm())['hotfix-7-approval.bob_40example.com'], voteValue('refused', 'not on a Friday'));
  await until('refused', async () => (await text(h7)).includes('Refused by bob@example.com.'));
  const pod = await fake('get', { resource: 'pods', ns: 'ci', name: 'hotfix-7-approval-pod' });
  assert.equal(pod.metadata.annotations['approve-step/nudge'], NOW_S);
  await page.close();
  await stop(u);
});

test('the requester and a non-approver are told why they cannot vote', async () => {
  await fake('reset');
  const dave = await ui('dave');
  let page = await open(dave);
  let r42 = card(page, 'release-42');
  await r42.locator('.why').waitFor();
  assert.equal(await text(r42.locator('.why')), 'You (dave@example.com) requested this run: your vote would not count.');
  assert.equal(await r42.getByRole('button').count(), 0);
  assert.equal(await text(card(page, 'hotfix-7').locator('.why')), 'You (dave@example.com) requested this run: your vote would not count.');
  await page.close();
  await stop(dave);
  const erin = await ui('erin');
  page = await open(erin);
  r42 = card(page, 'release-42');
  await r42.locator('.why').waitFor();
  assert.equal(await text(r42.locator('.why')),
    'You (erin@example.com) are not among the approvers (alice@example.com, bob@example.com, carol@example.com): your vote would not count.');
  assert.equal(await r42.getByRole('button', { name: 'Approve' }).count(), 0);
  // hotfix-7 names no approvers: erin may vote there
  assert.equal(await card(page, 'hotfix-7').getByRole('button', { name: 'Approve' }).count(), 1);
  await page.close();
  await stop(erin);
  const carol = await ui('carol');
  page = await open(carol);
  await card(page, 'hotfix-7').locator('.why').waitFor();
  assert.equal(await text(card(page, 'hotfix-7').locator('.why')), 'You already voted: approved. A vote is final.');
  await page.close();
  await stop(carol);
});

test('a 403 names the permission to ask for; nothing is written', async () => {
  await fake('reset');
  const u = await ui('alice');
  const page = await open(u);
  await fake('fail', { method: 'PATCH', path: '/configmaps/approve-cm$', status: 403,
    message: 'configmaps "approve-cm" is forbidden: User "alice@example.com" cannot patch resource "configmaps" in API group "" in the namespace "ci"' });
  const r42 = card(page, 'release-42');
  await r42.getByRole('button', { name: 'Approve' }).click();
  await r42.getByRole('button', { name: 'Yes, approve' }).click();
  await r42.locator('.note.error').waitFor();
  assert.equal(await text(r42.locator('.note')), 'You may not write your vote release-42-approval.alice_40example.com to ConfigMap ci/approve-cm (403 Forbidden: configmaps "approve-cm" is forbidden: User "alice@example.com" cannot patch resource "configmaps" in API group "" in the namespace "ci"). Ask your namespace admin for the approver Role (patch on configmaps named approve-cm in ci), as in examples/quorum/rbac.yaml.');
  assert.equal((await cm())['release-42-approval.alice_40example.com'], undefined);
  // the buttons are back: the vote can be tried again
  await until('the buttons back', async () => (await r42.getByRole('button', { name: 'Approve', exact: true }).count()) === 1);
  await page.close();
  await stop(u);
  // a user without any Role: the list itself is refused
  const f = await ui('frank');
  const p2 = await open(f, { waitLive: false });
  await p2.locator('#banner .error').waitFor();
  assert.equal(await text(p2.locator('#banner')), 'You may not read the TaskRuns in namespace ci (403 Forbidden: taskruns is forbidden: User "frank@example.com" cannot list resource "taskruns" in API group "" in the namespace "ci"). Ask your namespace admin for the approver Role (get, list and watch on taskruns.tekton.dev in ci), as in examples/quorum/rbac.yaml.');
  await p2.close();
  await stop(f);
});

test('the admission policy\'s denial is shown in its own words', async () => {
  await fake('reset');
  const u = await ui('alice');
  const page = await open(u);
  const msg = 'approve-step: vote release-42-approval.alice_40example.com already holds a decision and cannot be changed or removed: a decision is final';
  await fake('fail', { method: 'PATCH', path: '/configmaps/approve-cm$', status: 403,
    message: `configmaps "approve-cm" is forbidden: ValidatingAdmissionPolicy 'approve-step-votes' with binding 'approve-step-votes-binding' denied request: ${msg}` });
  const r42 = card(page, 'release-42');
  await r42.getByRole('button', { name: 'Refuse' }).click();
  await r42.getByRole('button', { name: 'Yes, refuse' }).click();
  await r42.locator('.note.error').waitFor();
  assert.equal(await text(r42.locator('.note')), `The approve-step admission policy refused to write your vote release-42-approval.alice_40example.com to ConfigMap ci/approve-cm: ${msg}`);
  // and the policy itself (the fake's model of it) let every vote above through
  assert.ok((await fake('admission')).every(([, , m]) => m === null));
  await page.close();
  await stop(u);
});

test('live: a new approval appears, a decided one moves to Decided, across watch reconnects', async () => {
  await fake('reset');
  await fake('chunking', { how: 'mid_line' }); // chunks that cut every event line in two
  const u = await ui('alice');
  const page = await open(u);
  const tr = await fake('get', { resource: 'taskruns', ns: 'ci', name: 'release-42-approval' });
  tr.metadata = { name: 'release-43-approval', namespace: 'ci', labels: { ...tr.metadata.labels, 'tekton.dev/pipelineRun': 'release-43' } };
  await fake('create', { resource: 'taskruns', object: tr });
  await card(page, 'release-43').waitFor({ timeout: 5000 });
  assert.equal(await page.locator('#waiting-count').textContent(), '3');
  // the server ends the watch; the page watches again from where it was
  await fake('end_watches');
  await fake('finish', { ns: 'ci', name: 'release-42-approval', reason: 'Succeeded', status: 'True',
    results: [['decision', 'approved'], ['approver', 'bob@example.com,carol@example.com'], ['comment', 'bob@example.com: go']] });
  await until('release-42 under Decided', async () => (await page.locator('#decided').textContent()).includes('release-42'));
  assert.ok((await text(page.locator('#decided'))).includes('Approved by bob@example.com, carol@example.com: bob@example.com: go.'));
  assert.equal(await page.locator('#waiting-count').textContent(), '2');
  // its history is gone (410): the page lists again
  await fake('expire');
  await fake('end_watches');
  await fake('finish', { ns: 'ci', name: 'hotfix-7-approval', reason: 'Failed', status: 'False',
    results: [['decision', 'timeout'], ['approver', ''], ['comment', '']] });
  await until('hotfix-7 timed out', async () => (await text(page.locator('#decided'))).includes('Timed out: nobody decided in time.'));
  assert.deepEqual(page.errors, []);
  await page.close();
  await stop(u);
});

test('markup from the cluster is shown as text and runs nothing', async () => {
  await fake('reset');
  const u = await ui('alice', '-n', 'lab');
  const page = await open(u);
  const inject = '<img src=x onerror="document.title=\'pwned\'">';
  const exp = card(page, 'exp-1');
  await exp.locator('.vote-list').waitFor();
  await exp.getByText('TaskRun and parameters').click();
  assert.equal(await exp.locator('.vote-list q').textContent(), inject);
  assert.ok((await exp.locator('.params').textContent()).includes(`reason${inject}`));
  // the approver's own comment with markup goes out and comes back as text
  await exp.getByLabel('Comment').fill(inject);
  await exp.getByRole('button', { name: 'Approve' }).click();
  await exp.getByRole('button', { name: 'Yes, approve' }).click();
  await exp.locator('.note.ok').waitFor();
  await until('both votes', async () => (await exp.locator('.vote-list q').count()) === 2);
  assert.deepEqual(await exp.locator('.vote-list q').allTextContents(), [inject, inject]);
  assert.equal(await page.locator('img').count(), 0);
  assert.equal(await page.title(), 'Approvals · approve-step');
  // and the policy of the page forbids markup sinks outright (Trusted Types)
  const sink = await page.evaluate(() => { try { document.body.insertAdjacentHTML('beforeend', '<i>x</i>'); return 'allowed'; } catch (e) { return e.name; } });
  assert.equal(sink, 'TypeError');
  await page.close();
  await stop(u);
});

test('a run cannot steer the vote: a path for a ConfigMap, keys remapped by items', async () => {
  await fake('reset');
  const u = await ui('alice', '-n', 'odd');
  const page = await open(u);
  await card(page, 'odd-2').locator('.why').waitFor();
  assert.equal(await text(card(page, 'odd-1').locator('.why')),
    'The TaskRun names "approve-cm/../../pods/odd-1-approval-pod" as its ConfigMap, which is no ConfigMap name: the page writes nothing there.');
  assert.equal(await text(card(page, 'odd-2').locator('.why')),
    'The TaskRun\'s workspace maps chosen keys of ConfigMap approve-cm (items or subPath): the step may read other keys than the ones you would write. Do not vote; ask the pipeline\'s owner to bind the ConfigMap whole.');
  assert.equal(await page.getByRole('button').count(), 0);
  const asked = (await fake('requests')).filter((q) => q.user === 'alice@example.com' && q.path.includes('/namespaces/odd/'));
  assert.deepEqual([...new Set(asked.map((q) => `${q.method} ${q.path}`))].sort(),
    ['GET /api/v1/namespaces/odd/configmaps/approve-cm', 'GET /apis/tekton.dev/v1/namespaces/odd/taskruns']);
  await page.close();
  await stop(u);
});

test('keyboard only: Tab to the comment, type, Approve, confirm with Enter', async () => {
  await fake('reset');
  const u = await ui('carol');
  const page = await open(u);
  const r42 = card(page, 'release-42');
  await r42.getByLabel('Comment').waitFor();
  const focused = () => page.evaluate(() => {
    const a = document.activeElement;
    return `${a.closest('article')?.querySelector('h3')?.textContent || ''}|${a.tagName}|${a.textContent}`;
  });
  let f;
  for (let i = 0; i < 30 && !(f = await focused()).startsWith('release-42 · approval|TEXTAREA'); i++) await page.keyboard.press('Tab');
  assert.match(f, /^release-42 · approval\|TEXTAREA/);
  await page.keyboard.type('fine by me');
  await page.keyboard.press('Tab');
  assert.equal(await focused(), 'release-42 · approval|BUTTON|Approve');
  await page.keyboard.press('Enter');
  assert.equal(await focused(), 'release-42 · approval|BUTTON|Yes, approve');
  await page.keyboard.press('Enter');
  await r42.locator('.note.ok').waitFor();
  assert.equal((await cm())['release-42-approval.carol_40example.com'], voteValue('approved', 'fine by me'));
  // the outcome is where the focus went, for a screen reader to read
  assert.equal(await page.evaluate(() => document.activeElement.className), 'note ok');
  await page.close();
  await stop(u);
});

test('the API only under the secret prefix, only for loopback hosts, only the console\'s paths', async () => {
  const u = await ui('alice');
  const cmPath = '/api/v1/namespaces/ci/configmaps/approve-cm';
  assert.equal((await request(u.port, '/console/')).status, 200);
  assert.equal((await request(u.port, `/${u.secret}${cmPath}`)).status, 200);
  assert.equal((await request(u.port, cmPath)).status, 404);
  assert.equal((await request(u.port, `/${'0'.repeat(32)}${cmPath}`)).status, 404);
  assert.notEqual((await request(u.port, `/console/..${cmPath}`)).status, 200);
  for (const host of ['evil.example.com', `evil.example.com:${u.port}`, '127.0.0.1.nip.io', '10.0.0.1']) {
    assert.equal((await request(u.port, `/${u.secret}${cmPath}`, { host })).status, 403, host);
  }
  assert.equal((await request(u.port, `/${u.secret}${cmPath}`, { host: `localhost:${u.port}` })).status, 200);
  assert.equal((await request(u.port, `/${u.secret}/api/v1/namespaces/ci/secrets/token`)).status, 403);
  assert.equal((await request(u.port, `/${u.secret}/api/v1/namespaces/ci/pods/x/exec`)).status, 403);
  assert.equal((await request(u.port, `/${u.secret}${cmPath}`, { method: 'DELETE' })).status, 403);
  assert.ok(await fake('get', { resource: 'configmaps', ns: 'ci', name: 'approve-cm' }));
  // an address without the secret: the page says what to do, and asks nothing
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${u.port}/console/#namespace=ci`);
  await page.locator('#banner p').waitFor();
  assert.equal(await text(page.locator('#banner')), 'This address lacks the console\'s secret or namespace. Open the address that "kubectl approve ui" printed, in full.');
  await page.close();
  await stop(u);
});

test('--address ::1: the page at http://[::1]:PORT, loopback hosts only', async () => {
  await fake('reset');
  const u = await ui('alice', '--address', '::1');
  assert.match(u.line, /^approve-step console: http:\/\/\[::1\]:\d+\/console\//);
  const cmPath = `/${u.secret}/api/v1/namespaces/ci/configmaps/approve-cm`;
  assert.equal((await request(u.port, cmPath, { address: '::1' })).status, 200);
  assert.equal((await request(u.port, cmPath, { address: '::1', host: 'localhost' })).status, 200);
  assert.equal((await request(u.port, cmPath, { address: '::1', host: 'evil.example.com' })).status, 403);
  await assert.rejects(request(u.port, '/console/'), /ECONNREFUSED/); // not on 127.0.0.1
  const page = await open(u);
  await card(page, 'release-42').locator('.progress').waitFor();
  await page.close();
  await stop(u);
});

test('proxy gone: the page says so; nothing waiting: the page says so', async () => {
  await fake('reset');
  const q = await ui('alice', '-n', 'quiet');
  let page = await open(q);
  await page.locator('#empty').waitFor();
  assert.equal(await text(page.locator('#empty')), 'No approvals are waiting in namespace quiet. New ones appear here by themselves.');
  await page.close();
  await stop(q);
  const u = await ui('alice');
  page = await open(u);
  await stop(u);
  await page.locator('#banner .error').waitFor({ timeout: 10000 });
  assert.match(await text(page.locator('#banner')), /kubectl proxy does not answer\. Is "kubectl approve ui" still running\? Start it again and open the address it prints\./);
  assert.match(await text(page.locator('#live')), /^Reconnecting in \d+ s…$/);
  await page.close();
});

test('all namespaces with -A', async () => {
  await fake('reset');
  const u = await ui('alice', '-A');
  assert.match(u.line, /#secret=[0-9a-f]{32}&all-namespaces=1$/);
  const page = await open(u);
  await card(page, 'exp-1').waitFor();
  assert.equal(await page.locator('#waiting-count').textContent(), '6'); // ci 2, lab 1, odd 2, plain 1
  assert.ok((await text(card(page, 'exp-1'))).includes('Namespace lab'));
  await page.close();
  await stop(u);
});

test('Ctrl-C stops kubectl proxy and leaves no process; SIGTERM too', async () => {
  for (const signal of ['SIGINT', 'SIGTERM']) {
    const u = await ui('alice');
    assert.equal((await request(u.port, '/console/')).status, 200);
    const holders = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
      try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(u.secret); } catch { return false; }
    });
    assert.ok(holders().length >= 1, 'kubectl proxy runs with the secret prefix');
    const t0 = Date.now();
    const r = await stop(u, signal);
    assert.equal(r.code, signal === 'SIGINT' ? 130 : 143, u.stderr());
    assert.ok(Date.now() - t0 < 5000, 'stopped within 5 s');
    await until('no process left', async () => holders().length === 0, 3000);
    await assert.rejects(request(u.port, '/console/'), /ECONNREFUSED/);
  }
});

test('without --no-browser, xdg-open gets the address', async () => {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'console-xdg-'));
  const out = path.join(bin, 'opened');
  fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s\\n' "$*" > '${out}'\n`, { mode: 0o755 });
  ui.env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  try {
    const u = await ui('alice', 'browser');
    await until('xdg-open', async () => fs.existsSync(out) && fs.readFileSync(out, 'utf8') === `${u.url}\n`, 5000);
    await stop(u);
  } finally {
    delete ui.env;
    fs.rmSync(bin, { recursive: true, force: true });
  }
});

test('ui usage errors: non-loopback address, bad port, vote options', async () => {
  const cases = [
    [['ui', '--address', '0.0.0.0'], "--address '0.0.0.0' is not a loopback IP address"],
    [['ui', '--address', '127.0.0.1.evil'], 'is not a loopback IP address'],
    [['ui', '--port', '70000'], "--port '70000' is not a port number"],
    [['ui', '--port', 'x'], "--port 'x' is not a port number"],
    [['ui', '-m', 'hi'], 'ui takes only'],
    [['ui', '-n', 'ci', '-A'], '-n and -A exclude each other'],
    [['release-42', '--no-browser'], '--port, --address and --no-browser go only with ui'],
  ];
  for (const [args, msg] of cases) {
    const r = run(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(msg), `${args.join(' ')}: ${r.stderr}`);
  }
  const r = run(['ui', '--no-browser', `--kubeconfig=${info.kubeconfig}`], { KUBECTL_APPROVE_CONSOLE: '/nonexistent' });
  assert.equal(r.status, 1);
  assert.ok(r.stderr.includes('the console\'s files are not in /nonexistent'), r.stderr);
  assert.ok(run(['--help']).stdout.includes('kubectl approve ui [--port N] [--address ADDR] [--no-browser]'));
});

test('the page encodes names and JSON as the plugin: its encode_name and json_string, on the same inputs', async () => {
  const { encodeName, decodeName, jsonString } = await import(path.join(ROOT, 'plugin', 'console', 'votes.js'));
  const funcs = spawnSync('sed', ['-n', '/^encode_name() {/,/^}/p;/^json_string() {/,/^}/p', PLUGIN], { encoding: 'utf8' }).stdout;
  assert.ok(funcs.includes('encode_name()') && funcs.includes('json_string()'));
  const plugin = (fn, arg) => spawnSync('sh', ['-c', `${funcs}\n${fn} "$1"`, 'sh', arg], { encoding: 'utf8' }).stdout;
  const inputs = ['alice@example.com', 'system:serviceaccount:ci:approver-bot', "o'brien+ci@example.com", 'under_score',
    'https://issuer.example.com#1234', 'zoë', 'ok 👍', 'tab\there', 'line\nbreak', 'quote " and \\ backslash', '\u007f\u001b[31m'];
  for (let c = 1; c < 128; c++) inputs.push(`a${String.fromCharCode(c)}b`);
  for (const s of inputs) {
    assert.equal(encodeName(s), plugin('encode_name', s), `encode_name ${JSON.stringify(s)}`);
    assert.equal(decodeName(encodeName(s)), s, `decodes ${JSON.stringify(s)}`);
    assert.equal(jsonString(s), plugin('json_string', s), `json_string ${JSON.stringify(s)}`);
    assert.equal(JSON.parse(jsonString(s)), s);
  }
  // only the one spelling decodes (as approve-step reads it)
  for (const bad of ['alice_40Example_2ecom', 'a_2db', 'a_4', 'a_00b', 'a_ZZb', 'a_c3']) assert.equal(decodeName(bad), '', bad);
});

test('a ServiceAccount counts only when named in approvers, as approve-step counts', async () => {
  const { tally, whyNot } = await import(path.join(ROOT, 'plugin', 'console', 'votes.js'));
  const sa = 'system:serviceaccount:ci:builder';
  const run = { mode: 'vote', key: 'run-1', approvals: '2', approvers: [], requester: 'carol@example.com', running: true, configMap: 'approve-cm', configMaps: ['approve-cm'] };
  const data = { 'run-1.system_3aserviceaccount_3aci_3abuilder': 'approved', 'run-1.system_3aserviceaccount_3aci_3adeployer': 'approved' };
  const t = tally(run, data);
  assert.deepEqual(t.approved, []);
  assert.equal(t.decided, null);
  assert.ok(t.votes.every((v) => !v.counted && v.why.includes('ServiceAccount')));
  const gate = { metadata: { labels: { 'approve-step/gate': 'true' } } };
  assert.match(whyNot(run, sa, gate), /votes only when named in approvers/);
  const named = { ...run, approvers: [sa, 'system:serviceaccount:ci:deployer'] };
  assert.equal(tally(named, data).decided, 'approved');
  assert.equal(whyNot(named, sa, gate), '');
});

test('the key as the plugin computes it: the Task\'s default with the run\'s name and UID, else the name', async () => {
  const { runKey } = await import(path.join(ROOT, 'plugin', 'console', 'votes.js'));
  const tr = { metadata: { name: 'release-42-approval', uid: '5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19' }, spec: {}, status: {} };
  assert.equal(runKey(tr), 'release-42-approval');
  tr.status.taskSpec = { params: [{ name: 'key', default: '$(context.taskRun.name)-$(context.taskRun.uid)' }] };
  assert.equal(runKey(tr), 'release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19');
  // a StepAction's step, resolved into status.taskSpec: its --key
  const sa = { metadata: tr.metadata, spec: {}, status: { taskSpec: { steps: [
    { name: 'build', args: ['--key', '$(params.other)'] },
    { name: 'approval', args: ['--dir', '/w', '--key', '$(context.taskRun.name)-$(context.taskRun.uid)', '--timeout'] }] } } };
  assert.equal(runKey(sa), 'release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19');
  tr.spec.params = [{ name: 'key', value: '$(context.taskRun.uid)-x-$(context.taskRun.name)-$(context.taskRun.uid)' }];
  assert.equal(runKey(tr), '5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19-x-release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19');
});

test('screenshots of the fixture: light, and dark at phone width', async () => {
  await fake('reset');
  const u = await ui('alice');
  const page = await open(u);
  await card(page, 'hotfix-7').locator('.vote-list').waitFor();
  await card(page, 'release-42').locator('.progress').waitFor();
  await page.screenshot({ path: path.join(ROOT, 'docs', 'console.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(ROOT, 'docs', 'console-dark-phone.png') });
  // nothing is wider than a phone's window
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390);
  await page.close();
  await stop(u);
});

// ------------------------------------------------------------------ run
const tally = new Tally();
for (const c of cases) {
  if (only.length && !only.some((o) => c.name.includes(o))) continue;
  const t0 = Date.now();
  try {
    await c.fn();
    tally.ok(`${c.name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
  } catch (e) {
    tally.fail(c.name, `${e.stack || e}`);
    for (const u of [...uis]) await stop(u);
    await fake('reset').catch(() => {});
  }
}
await browser.close();
fs.rmSync(profile, { recursive: true, force: true });
cluster.stdin.end();
await new Promise((r) => cluster.on('exit', r));
process.exit(tally.close());
