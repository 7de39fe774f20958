// Cases of the console's page: live updates, markup shown as text, what a
// run cannot steer, the keyboard, and what the server serves to whom.

import assert from 'node:assert/strict';
import http from 'node:http';
import { K42, KH7, voteValue, fake, cm, ui, stop, request, browser, open, card, text, until, test } from './kit.mjs';

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
  assert.ok((await exp.locator('.tr-params .params').textContent()).includes(`reason${inject}`));
  // the message: markup as text, a line break and an RTL override as the step's log shows them
  assert.equal(await exp.locator('.message').textContent(), `Check ${inject}\\n\\u{202e}gnp.x`);
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
  assert.equal((await cm())[`${K42}.carol_40example.com`], voteValue('approved', 'fine by me'));
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
  // a PipelineRun's status subresource (the whole object), for its params; not the
  // object's path nor the collection, where a POST or an apply would create a run
  assert.equal((await request(u.port, `/${u.secret}/apis/tekton.dev/v1/namespaces/ci/pipelineruns/release-42/status`)).status, 200);
  for (const p of ['pipelineruns/release-42', 'pipelineruns']) {
    assert.equal((await request(u.port, `/${u.secret}/apis/tekton.dev/v1/namespaces/ci/${p}`, { method: 'POST' })).status, 403, p);
    assert.equal((await request(u.port, `/${u.secret}/apis/tekton.dev/v1/namespaces/ci/${p}`)).status, 403, p);
  }
  assert.ok(await fake('get', { resource: 'configmaps', ns: 'ci', name: 'approve-cm' }));
  // an address without the secret: the page says what to do, and asks nothing
  const page = await browser.newPage();
  await page.goto(`http://127.0.0.1:${u.port}/console/#namespace=ci`);
  await page.locator('#banner p').waitFor();
  assert.equal(await text(page.locator('#banner')), 'This address lacks the console\'s secret or namespace. Open the address that "kubectl approve ui" printed, in full.');
  await page.close();
  await stop(u);
});

test('attack: bidi overrides, marks, separators, the BOM, invisible characters and controls in a comment are shown as approve-step shows them', async () => {
  await fake('reset');
  // carol's comment reads "approved" backwards-and-forwards unless escaped
  const comment = 'ok \u202edeifirev\u202c \u061c\u200e\u200f\u2066\u2069\u2028\u2029\ufeff\u009b\u0085\u0001\u007f\t\r\nend ap\u200bpro\u00adved\u2060\u{e0001}';
  await fake('patch', { resource: 'configmaps', ns: 'ci', name: 'approve-cm',
    patch: { data: { [`${KH7}.carol_40example.com`]: JSON.stringify({ decision: 'approved', comment }) } } });
  const u = await ui('alice');
  const page = await open(u);
  const h7 = card(page, 'hotfix-7');
  await h7.locator('.vote-list').waitFor();
  const shown = await h7.locator('.vote-list q').first().textContent();
  assert.equal(shown, 'ok \\u{202e}deifirev\\u{202c} \\u{061c}\\u{200e}\\u{200f}\\u{2066}\\u{2069}\\u{2028}\\u{2029}\\u{feff}\\u{009b}\\u{0085}\\x01\\x7f\\t\\r\\nend ap\\u{200b}pro\\u{00ad}ved\\u{2060}\\u{e0001}');
  assert.ok(!/[\u202a-\u202e\u2066-\u2069\u061c\u200b-\u200f\u2028\u2029\ufeff\u0080-\u009f\u00ad\u2060-\u2064\u{e0000}-\u{e007f}]/u.test(await page.locator('body').textContent()));
  await page.close();
  await stop(u);
});
