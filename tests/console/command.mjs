// Cases of `kubectl approve ui` as a command (addresses, its end, its
// errors) and of what the page computes as the plugin does; screenshots.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { ROOT, PLUGIN, info, fake, cm, ui, stop, run, request, open, card, text, until, test } from './kit.mjs';

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
  assert.equal(await page.locator('#waiting-count').textContent(), '9'); // ci 2, lab 1, odd 2, plain 1, apps 2, approve-per-run 1
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

test('the key as the plugin computes it: from status.taskSpec, the Task\'s default with the run\'s name and UID; never the bare name', async () => {
  const { runKey, keyProblem } = await import(path.join(ROOT, 'plugin', 'console', 'votes.js'));
  const tr = { metadata: { name: 'release-42-approval', namespace: 'ci', uid: '5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19' }, spec: {}, status: {} };
  assert.equal(runKey(tr), '');
  assert.equal(keyProblem(tr), 'TaskRun ci/release-42-approval is not resolved yet (no status.taskSpec): cannot tell which key it waits on; try again when it runs.');
  tr.status.taskSpec = { params: [{ name: 'key', default: '$(context.taskRun.name)-$(context.taskRun.uid)' }],
    steps: [{ name: 'wait', command: ['/approve-step'], args: ['--key', '$(params.key)'] }] };
  assert.equal(runKey(tr), 'release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19');
  // a StepAction's step, resolved into status.taskSpec: its --key
  const sa = { metadata: tr.metadata, spec: {}, status: { taskSpec: { steps: [
    { name: 'build', args: ['--key', '$(params.other)'] },
    { name: 'approval', command: ['/approve-step'], args: ['--dir', '/w', '--key', '$(context.taskRun.name)-$(context.taskRun.uid)', '--timeout'] }] } } };
  assert.equal(runKey(sa), 'release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19');
  tr.spec.params = [{ name: 'key', value: '$(context.taskRun.uid)-x-$(context.taskRun.name)-$(context.taskRun.uid)' }];
  assert.equal(runKey(tr), '5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19-x-release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19');
  assert.equal(keyProblem(tr), '');
  // a key param naming another run's key, or a shared one: refused
  for (const other of ['release-41-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a18', 'status']) {
    tr.spec.params = [{ name: 'key', value: other }];
    assert.equal(runKey(tr), other);
    assert.equal(keyProblem(tr), `TaskRun ci/release-42-approval waits on key ${other}, which does not name its UID 5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19: refusing, since a key not derived from the run could approve another run.`);
  }
  // a step whose --key is literal: the key param does not change it
  const lit = { metadata: tr.metadata, spec: { params: [{ name: 'key', value: 'status' }] },
    status: { taskSpec: { steps: [{ name: 'wait', command: ['/approve-step'], args: ['--key', 'gate-$(context.taskRun.uid)'] }] } } };
  assert.equal(runKey(lit), 'gate-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19');
});

test('screenshots of the fixture: light, and dark at phone width', async () => {
  await fake('reset');
  const u = await ui('alice');
  const page = await open(u);
  await card(page, 'hotfix-7').locator('.vote-list').waitFor();
  await card(page, 'release-42').locator('.progress').waitFor();
  // what the run was started with, open on the first card
  await card(page, 'release-42').getByText('PipelineRun parameters').click();
  await until('the params', async () => (await text(card(page, 'release-42').locator('.run-params .params'))).includes('revision'));
  await page.screenshot({ path: path.join(ROOT, 'docs', 'console.png'), fullPage: true });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: path.join(ROOT, 'docs', 'console-dark-phone.png') });
  // nothing is wider than a phone's window
  assert.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390);
  await page.close();
  await stop(u);
});
