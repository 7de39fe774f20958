// Cases of the console's votes: who may vote, what a vote writes, and what
// the page says when the cluster refuses it.

import assert from 'node:assert/strict';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { NOW_S, K42, KH7, KPLAIN, voteValue, info, fake, cm, ui, stop, run, request, open, card, text, until, test } from './kit.mjs';

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
    `Votes go to ConfigMap ci/approve-cm, key ${K42}.NAME`,
    '0 of 2 approvals; still needed: 2 more from alice@example.com, bob@example.com, carol@example.com.']) {
    assert.ok(t.includes(want), `release-42 card lacks "${want}": ${t}`);
  }
  // what it asks for: the step's --message, and the params the run was started with
  assert.equal(await text(r42.locator('.message')), 'Deploy 4f2a9c1 to prod (payments-api, 14 commits since v2.3.0)');
  await r42.getByText('PipelineRun parameters').click();
  await until('the params', async () => (await text(r42.locator('.run-params .params'))) === 'requester dave@example.com revision 4f2a9c1 environment prod');
  await r42.getByText('TaskRun and parameters').click();
  assert.ok((await text(r42.locator('.tr-params .params'))).includes('TaskRun release-42-approval Pod release-42-approval-pod timeout 24h configmap approve-cm approvals 2'));
  // no message: no empty line for it
  assert.equal(await card(page, 'hotfix-7').locator('.message').isVisible(), false);
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

test('approve with a comment writes the vote as kubectl approve does, nudges the pod, shows 1 of 2', async () => {
  await fake('reset');
  const u = await ui('alice');
  const page = await open(u);
  const r42 = card(page, 'release-42');
  await r42.getByLabel('Comment').fill(COMMENT);
  await r42.getByRole('button', { name: 'Approve' }).click();
  const confirm = r42.getByRole('group', { name: 'Confirm your vote' });
  assert.equal(await text(confirm.locator('p')),
    `Approve release-42 as alice@example.com? This writes ${K42}.alice_40example.com to ConfigMap ci/approve-cm. A vote is final.`);
  await confirm.getByRole('button', { name: 'Yes, approve' }).click();
  await r42.locator('.note.ok').waitFor();
  assert.equal(await text(r42.locator('.note')), `You approved as alice@example.com: wrote ${K42}.alice_40example.com to ConfigMap ci/approve-cm. Nudged pod ci/release-42-approval-pod: the step sees your vote within seconds.`);
  const data = await cm();
  assert.equal(data[`${K42}.alice_40example.com`], voteValue('approved', COMMENT));
  const pod = await fake('get', { resource: 'pods', ns: 'ci', name: 'release-42-approval-pod' });
  assert.equal(pod.metadata.annotations['approve-step/nudge'], NOW_S);
  assert.equal(pod.metadata.annotations['tekton.dev/ready'], 'READY'); // a merge, not a replace
  await until('the tally', async () => (await text(r42)).includes('1 of 2 approvals (alice@example.com); still needed: 1 more from bob@example.com, carol@example.com.'));
  assert.ok((await text(r42)).includes('You already voted: approved. A vote is final.'));
  assert.equal(await r42.getByRole('button', { name: 'Approve' }).count(), 0);
  const mine = r42.locator('.vote-list li', { hasText: 'alice@example.com' });
  // shown as approve-step shows it: the tab and newline escaped
  assert.equal(await mine.locator('q').textContent(), COMMENT.replace('\t', '\\t').replace('\n', '\\n'));
  // the same vote by the plugin, as bob, through the real kubectl: the same bytes
  if (spawnSync('kubectl', ['auth', 'whoami', '--help']).status === 0) {
    const r = run(['release-42', '-m', COMMENT, '--yes', `--kubeconfig=${info.kubeconfig}`, '--context=bob']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal((await cm())[`${K42}.bob_40example.com`], data[`${K42}.alice_40example.com`]);
    const patches = (await fake('requests')).filter((q) => q.method === 'PATCH' && q.path.endsWith('/configmaps/approve-cm'));
    assert.equal(patches.length, 2);
    assert.deepEqual(JSON.parse(patches[0].body), JSON.parse(patches[1].body.replace('bob_40', 'alice_40')));
  } else {
    console.log('  note: this kubectl has no "auth whoami" (1.28+): bob votes through the fake, not the plugin');
    await fake('patch', { resource: 'configmaps', ns: 'ci', name: 'approve-cm',
      patch: { data: { [`${K42}.bob_40example.com`]: voteValue('approved', COMMENT) } } });
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
    `No decision yet (key ${KPLAIN}): one approval or refusal decides.`, 'Time left 38 min (then approved)',
    'Needs one decision (no quorum)', `Votes go to ConfigMap plain/approvals, key ${KPLAIN}`]) {
    assert.ok(t.includes(want), `lacks "${want}": ${t}`);
  }
  await d.getByLabel('Comment').fill('go');
  await d.getByRole('button', { name: 'Approve' }).click();
  await d.getByRole('button', { name: 'Yes, approve' }).click();
  await d.locator('.note.ok').waitFor();
  assert.equal((await cm('plain', 'approvals'))[KPLAIN], '{"decision":"approved","approver":"alice@example.com","comment":"go"}');
  await until('the decision', async () => (await text(d)).includes(`Decision: approved (key ${KPLAIN}).`));
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
  assert.equal((await cm())[`${KH7}.bob_40example.com`], voteValue('refused', 'not on a Friday'));
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
  assert.equal(await text(r42.locator('.note')), `You may not write your vote ${K42}.alice_40example.com to ConfigMap ci/approve-cm (403 Forbidden: configmaps "approve-cm" is forbidden: User "alice@example.com" cannot patch resource "configmaps" in API group "" in the namespace "ci"). Ask your namespace admin for the approver Role (patch on configmaps named approve-cm in ci), as in examples/quorum/rbac.yaml.`);
  assert.equal((await cm())[`${K42}.alice_40example.com`], undefined);
  // the buttons are back: the vote can be tried again
  await until('the buttons back', async () => (await r42.getByRole('button', { name: 'Approve', exact: true }).count()) === 1);
  await page.close();
  await stop(u);
  // a PipelineRun one may not read: its params say so, the card works
  await fake('reset');
  await fake('fail', { method: 'GET', path: '/pipelineruns/release-42/status$', status: 403,
    message: 'pipelineruns.tekton.dev "release-42" is forbidden: User "alice@example.com" cannot get resource "pipelineruns/status" in API group "tekton.dev" in the namespace "ci"' });
  const u3 = await ui('alice');
  const p3 = await open(u3);
  const c42 = card(p3, 'release-42');
  await c42.getByText('PipelineRun parameters').click();
  await until('the refusal', async () => (await text(c42.locator('.run-params .params'))).startsWith('Not readable You may not read PipelineRun ci/release-42 (403 Forbidden'));
  assert.ok((await text(c42.locator('.run-params .params'))).includes('(get on pipelineruns/status in ci)'), await text(c42.locator('.run-params .params')));
  assert.equal(await c42.getByRole('button', { name: 'Approve' }).count(), 1);
  await p3.close();
  await stop(u3);
  // attack: a PipelineRun of the same name that does not own the TaskRun
  // (the TaskRun's owner deleted, a run of its name created again): its
  // params are not shown as the run's
  await fake('reset');
  const tr42 = await fake('get', { resource: 'taskruns', ns: 'ci', name: 'release-42-approval' });
  const prUid = tr42.metadata.ownerReferences[0].uid;
  await fake('patch', { resource: 'taskruns', ns: 'ci', name: 'release-42-approval', patch: { metadata: {
    ownerReferences: [{ ...tr42.metadata.ownerReferences[0], uid: '0b5e7d1a-0000-4000-8000-000000000001' }] } } });
  const u4 = await ui('alice');
  const p4 = await open(u4);
  const d42 = card(p4, 'release-42');
  await d42.getByText('PipelineRun parameters').click();
  await until('not the owner', async () => (await text(d42.locator('.run-params .params'))).startsWith(`Not readable PipelineRun ci/release-42 (UID ${prUid}) is not the one that owns TaskRun release-42-approval (UID 0b5e7d1a-0000-4000-8000-000000000001)`));
  assert.ok(!(await text(d42.locator('.run-params .params'))).includes('revision'));
  await p4.close();
  await stop(u4);
  // a user without any Role: the list itself is refused
  const f = await ui('frank');
  const p2 = await open(f, { waitLive: false });
  await p2.locator('#banner .error').waitFor();
  assert.equal(await text(p2.locator('#banner')), 'You may not read the TaskRuns in namespace ci (403 Forbidden: taskruns is forbidden: User "frank@example.com" cannot list resource "taskruns" in API group "" in the namespace "ci"). Ask your namespace admin for the approver Role (get, list and watch on taskruns.tekton.dev in ci), as in examples/quorum/rbac.yaml.');
  // nothing was read: no count of 0 under the refusal
  assert.equal(await p2.locator('#waiting-count').textContent(), '?');
  if (await p2.locator('#empty').isVisible()) {
    assert.equal(await text(p2.locator('#empty')), 'The approvals waiting in namespace ci could not be read yet (see above).');
  }
  await p2.close();
  await stop(f);
});

test('the admission policy\'s denial is shown in its own words', async () => {
  await fake('reset');
  const u = await ui('alice');
  const page = await open(u);
  const msg = `approve-step: vote ${K42}.alice_40example.com already holds a decision and cannot be changed or removed: a decision is final`;
  await fake('fail', { method: 'PATCH', path: '/configmaps/approve-cm$', status: 403,
    message: `configmaps "approve-cm" is forbidden: ValidatingAdmissionPolicy 'approve-step-votes' with binding 'approve-step-votes-binding' denied request: ${msg}` });
  const r42 = card(page, 'release-42');
  await r42.getByRole('button', { name: 'Refuse' }).click();
  await r42.getByRole('button', { name: 'Yes, refuse' }).click();
  await r42.locator('.note.error').waitFor();
  assert.equal(await text(r42.locator('.note')), `The approve-step admission policy refused to write your vote ${K42}.alice_40example.com to ConfigMap ci/approve-cm: ${msg}`);
  // and the policy itself (the fake's model of it) let every vote above through
  assert.ok((await fake('admission')).every(([, , m]) => m === null));
  await page.close();
  await stop(u);
});

test('attack: a run whose key param names another run\'s key, or that is not resolved yet, gets no vote buttons', async () => {
  await fake('reset');
  const u = await ui('alice');
  const page = await open(u);
  const tr = await fake('get', { resource: 'taskruns', ns: 'ci', name: 'release-42-approval' });
  const uid = '0b6f6a2e-7f1c-4a8e-9d3b-2c4e5f6a7b8c';
  // release-44's requester points its key at release-42's: one approval would approve both
  const steal = JSON.parse(JSON.stringify(tr));
  steal.metadata = { name: 'release-44-approval', namespace: 'ci', uid, labels: { ...tr.metadata.labels, 'tekton.dev/pipelineRun': 'release-44' } };
  steal.spec.params.push({ name: 'key', value: K42 });
  await fake('create', { resource: 'taskruns', object: steal });
  // release-45: Tekton has not resolved its spec yet
  const early = JSON.parse(JSON.stringify(tr));
  early.metadata = { name: 'release-45-approval', namespace: 'ci', uid: uid.replace('0b6f', '0c7a'), labels: { ...tr.metadata.labels, 'tekton.dev/pipelineRun': 'release-45' } };
  delete early.status.taskSpec;
  await fake('create', { resource: 'taskruns', object: early });
  const r44 = card(page, 'release-44');
  await r44.locator('.action .why').waitFor({ timeout: 5000 });
  assert.equal(await text(r44.locator('.action')), `TaskRun ci/release-44-approval waits on key ${K42}, which does not name its UID ${uid}: refusing, since a key not derived from the run could approve another run.`);
  assert.equal(await r44.getByRole('button', { name: 'Approve' }).count(), 0);
  assert.equal(await r44.getByRole('button', { name: 'Refuse' }).count(), 0);
  const r45 = card(page, 'release-45');
  await r45.locator('.action .why').waitFor({ timeout: 5000 });
  assert.equal(await text(r45.locator('.action')), 'TaskRun ci/release-45-approval is not resolved yet (no status.taskSpec): cannot tell which key it waits on; try again when it runs.');
  assert.equal(await r45.getByRole('button', { name: 'Approve' }).count(), 0);
  assert.equal(await r45.getByRole('button', { name: 'Refuse' }).count(), 0);
  // release-42 itself still takes votes
  assert.equal(await card(page, 'release-42').getByRole('button', { name: 'Approve', exact: true }).count(), 1);
  await page.close();
  await stop(u);
});

test('attack: a ConfigMap full through binaryData, or a comment that would overflow it: nothing is sent, as the plugin', async () => {
  await fake('reset');
  const full = await fake('get', { resource: 'configmaps', ns: 'ci', name: 'approve-cm' });
  const bytes = (o) => Object.entries(o || {}).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  const have = bytes(full.data);
  const k = 'release-1-approval.zed_40example.com';
  const fill = async (room) => fake('patch', { resource: 'configmaps', ns: 'ci', name: 'approve-cm',
    patch: { binaryData: { [k]: Buffer.alloc(1048576 - have - k.length - room).toString('base64') } } });
  const mine = `${K42}.alice_40example.com`;
  // no room even for the smallest vote: the card says so and offers no buttons
  await fill(mine.length + voteValue('refused', '').length - 1);
  let u = await ui('alice');
  let page = await open(u);
  let r42 = card(page, 'release-42');
  await r42.locator('.action .why').waitFor({ timeout: 5000 });
  assert.match(await text(r42.locator('.action')), /^ConfigMap ci\/approve-cm holds 1048\d\d\d bytes \(keys and values of data and binaryData, as the API server counts\): your vote would take it to 1048577, past the 1048576 bytes a ConfigMap may hold, and the API server would refuse it; nothing written\. Archive it and start an empty one, or use a ConfigMap per run \(docs\/approvers\.md, Capacity\)\.$/);
  assert.equal(await r42.getByRole('button', { name: 'Approve' }).count(), 0);
  await page.close();
  await stop(u);
  // room for a short vote only: a long comment is refused before it is sent
  await fill(mine.length + voteValue('approved', 'ok').length);
  u = await ui('alice');
  page = await open(u);
  r42 = card(page, 'release-42');
  const patches = async () => (await fake('requests')).filter((r) => r.method === 'PATCH' && r.path.includes('/configmaps/')).length;
  const sent = await patches();
  await r42.getByLabel('Comment').fill('a long comment '.repeat(20));
  await r42.getByRole('button', { name: 'Approve' }).click();
  await r42.getByRole('button', { name: 'Yes, approve' }).click();
  await r42.locator('.note.error').waitFor();
  assert.match(await text(r42.locator('.note')), /your vote would take it to \d+, past the 1048576 bytes a ConfigMap may hold.*use a ConfigMap per run \(docs\/approvers\.md, Capacity\)\.$/);
  assert.equal((await cm())[mine], undefined);
  assert.equal(await patches(), sent, 'a PATCH of the ConfigMap was sent');
  // the short one fits exactly and is written
  await r42.getByLabel('Comment').fill('ok');
  await r42.getByRole('button', { name: 'Approve' }).click();
  await r42.getByRole('button', { name: 'Yes, approve' }).click();
  await r42.locator('.note.ok').waitFor();
  assert.equal((await cm())[mine], voteValue('approved', 'ok'));
  await page.close();
  await stop(u);
});

test('a JSON pending vote ({"decision":"pending"}, any pending word) is pending, as the step reads it: one\'s own may be replaced, others\' do not count', async () => {
  await fake('reset');
  // the admission policy refuses to write such votes (approve-step-votes.yaml, jsonPending): unlabelled, a ConfigMap holds them
  await fake('patch', { resource: 'configmaps', ns: 'ci', name: 'approve-cm', patch: { metadata: { labels: { 'approve-step/gate': null } }, data: {
    [`${K42}.alice_40example.com`]: '{"decision":" Waiting ","comment":"asked on chat"}',
    // attack: pending votes that a reader of the first (or last) "decision" takes for approvals
    [`${K42}.bob_40example.com`]: '{"note":{"decision":"approved"},"decision":"pending"}',
    [`${K42}.carol_40example.com`]: '{"decision":"pending","decision":"approved"}' } } });
  const u = await ui('alice');
  const page = await open(u);
  const r42 = card(page, 'release-42');
  await r42.locator('.progress').waitFor();
  assert.ok((await text(r42)).includes('0 of 2 approvals; still needed: 2 more from alice@example.com, bob@example.com, carol@example.com.'), await text(r42));
  await r42.getByLabel('Comment').fill('ok');
  await r42.getByRole('button', { name: 'Approve' }).click();
  await r42.getByRole('button', { name: 'Yes, approve' }).click();
  await r42.locator('.note.ok').waitFor();
  assert.equal((await cm())[`${K42}.alice_40example.com`], voteValue('approved', 'ok'));
  await until('1 of 2', async () => (await text(r42)).includes('1 of 2 approvals (alice@example.com); still needed: 1 more from bob@example.com, carol@example.com.'));
  await page.close();
  await stop(u);
});

test('a StepAction gate in a user\'s own Task is found by its /approve-step step and voted on in its --configmap; a configmap param names where votes go', async () => {
  await fake('reset');
  const u = await ui('alice', '-n', 'apps');
  const page = await open(u);
  const ship = card(page, 'ship-9');
  await ship.getByRole('button', { name: 'Approve' }).waitFor();
  const key = `ship-9-deploy-${(await fake('get', { resource: 'taskruns', ns: 'apps', name: 'ship-9-deploy' })).metadata.uid}`;
  assert.ok((await text(ship)).includes(`ConfigMap apps/ship-votes, key ${key}.NAME`), await text(ship));
  assert.ok((await text(ship)).includes('2 approvals from alice@example.com, bob@example.com'), await text(ship));
  await ship.getByRole('button', { name: 'Approve' }).click();
  await ship.getByRole('button', { name: 'Yes, approve' }).click();
  await ship.locator('.note.ok').waitFor();
  assert.equal((await cm('apps', 'ship-votes'))[`${key}.alice_40example.com`], voteValue('approved', ''));
  // the catalog Task with a configmap param: that ConfigMap, not the workspace's
  const hold = card(page, 'hold-3');
  await hold.getByRole('button', { name: 'Refuse' }).click();
  await hold.getByRole('button', { name: 'Yes, refuse' }).click();
  await hold.locator('.note.ok').waitFor();
  const hkey = `hold-3-approval-${(await fake('get', { resource: 'taskruns', ns: 'apps', name: 'hold-3-approval' })).metadata.uid}`;
  assert.equal((await cm('apps', 'hold-votes'))[`${hkey}.alice_40example.com`], voteValue('refused', ''));
  assert.equal(await fake('get', { resource: 'configmaps', ns: 'apps', name: 'approve-cm' }), null); // never created
  await page.close();
  await stop(u);
});

test('a ConfigMap per run (examples/per-run-configmap): the gate with an emptyDir workspace is listed by its PipelineRun and voted on in <run>-votes', async () => {
  await fake('reset');
  const u = await ui('alice', '-n', 'approve-per-run');
  const page = await open(u);
  const run = card(page, 'release-7x9k');
  await run.getByRole('button', { name: 'Approve' }).waitFor();
  const tr = await fake('get', { resource: 'taskruns', ns: 'approve-per-run', name: 'release-7x9k-approval' });
  const key = `release-7x9k-approval-${tr.metadata.uid}`;
  assert.ok((await text(run)).includes(`ConfigMap approve-per-run/release-7x9k-votes, key ${key}.NAME`), await text(run));
  await run.getByLabel('Comment').fill('checked');
  await run.getByRole('button', { name: 'Approve' }).click();
  await run.getByRole('button', { name: 'Yes, approve' }).click();
  await run.locator('.note.ok').waitFor();
  assert.equal((await cm('approve-per-run', 'release-7x9k-votes'))[`${key}.alice_40example.com`], voteValue('approved', 'checked'));
  await until('1 of 2', async () => (await text(run)).includes('1 of 2 approvals (alice@example.com)'));
  await page.close();
  await stop(u);
});
