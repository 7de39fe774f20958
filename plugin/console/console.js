// The approver console: lists the approvals waiting, live, and writes your
// vote as `kubectl approve` does, through your own `kubectl proxy`.
// Everything that comes from the cluster is put in the page as text
// (textContent, never markup); the page's CSP enforces it with Trusted Types.
import { describeRun, isApproval, isName, noRoom, paramPairs, tally, whyNot, voteField, votePatch } from './votes.js';

const $ = (id) => document.getElementById(id);
const hash = new URLSearchParams(location.hash.slice(1));
const secret = hash.get('secret') || '';
const API = `/${secret}`;
const NS = hash.get('namespace') || '';
const ALL = hash.has('all-namespaces');
const WAITING_MAX = 200; // cards; beyond that the list says how many are left out
const DECIDED_MAX = 20;

const state = {
  me: null, // SelfSubjectReview's userInfo
  runs: new Map(), // uid -> {run, card}
  cms: new Map(), // ns/name -> ConfigMap or {error}
  prs: new Map(), // ns/uid -> [[param, value]] of a PipelineRun, or {error}
  notes: new Map(), // uid -> {text, kind} shown under a card (the last vote's outcome)
  rv: '',
  listed: false, // a list of the TaskRuns has been read: the count means something
};

// ------------------------------------------------------------------ DOM
// el('p', {class: 'x'}, 'text', child): strings become text nodes, never markup.
function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v == null) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  e.append(...children.flat().filter((c) => c != null && c !== false).map((c) => (typeof c === 'string' ? visible(c) : c)));
  return e;
}

// Text from the cluster with every code point approve-step escapes shown as
// it shows them (escape.c), so that none can disguise what is printed:
// newline, return and tab as \n \r \t, other C0 controls and DEL as \xNN,
// C1 controls, bidirectional marks, overrides and isolates, line and
// paragraph separators, the BOM and the invisible format characters (soft
// hyphen, zero-width space and joiners, word joiner, invisible operators,
// Mongolian vowel separator, tags U+E0000-E007F) as \u{xxxx}.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\u2028\u2029\ufeff\u{e0000}-\u{e007f}]/gu;
const ESCAPES = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
const visible = (s) => String(s).replace(UNSAFE, (c) => {
  const n = c.codePointAt(0);
  if (ESCAPES[c]) return ESCAPES[c];
  return n < 0x20 || n === 0x7f ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16).padStart(4, '0')}}`;
});

function banner(text, kind = 'error') {
  const b = $('banner');
  b.replaceChildren(...(text ? [el('p', { class: kind }, text)] : []));
}

function setLive(text, ok) {
  const s = $('live');
  s.textContent = text;
  s.dataset.ok = ok ? 'yes' : 'no';
}

// ------------------------------------------------------------------ time
const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
function span(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const d = Math.floor(s / 86400); const h = Math.floor((s % 86400) / 3600); const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${h} h`;
  if (h) return `${h} h ${m} min`;
  if (m) return `${m} min`;
  return `${s} s`;
}
const when = (iso) => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? iso || 'unknown' : `${dateFmt.format(t)} (${span((Date.now() - t) / 1000)} ago)`;
};
const timeEl = (iso) => el('time', { datetime: iso }, when(iso));

function timeLeft(run) {
  const start = Date.parse(run.since);
  if (Number.isNaN(start)) return 'unknown';
  const limits = [];
  if (run.timeout) limits.push([start + run.timeout * 1000, `then ${run.onTimeout === 'approve' ? 'approved' : 'refused'}`]);
  if (run.runTimeout) limits.push([start + run.runTimeout * 1000, 'then the TaskRun times out']);
  if (!limits.length) return 'no timeout';
  const [at, what] = limits.sort((a, b) => a[0] - b[0])[0];
  return at <= Date.now() ? `timed out (${what.replace('then ', '')})` : `${span((at - Date.now()) / 1000)} (${what})`;
}

// ------------------------------------------------------------------ API
class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

async function api(method, path, body, type = 'application/json') {
  let res;
  try {
    res = await fetch(API + path, {
      method, body, cache: 'no-store', redirect: 'error',
      headers: { Accept: 'application/json', ...(body ? { 'Content-Type': type } : {}) },
    });
  } catch {
    throw new ApiError(0, 'no answer');
  }
  const text = await res.text();
  if (!res.ok) throw failure(res.status, text);
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError(res.status, `kubectl proxy answered with something that is not JSON: ${text.slice(0, 200)}`);
  }
}

function failure(status, text) {
  let message = text.trim().slice(0, 500);
  try {
    const s = JSON.parse(text);
    if (s && s.kind === 'Status' && typeof s.message === 'string') message = s.message;
  } catch { /* kubectl proxy's own answers are plain text */ }
  return new ApiError(status, message, text);
}

// What went wrong, in words to act on. WHAT: what the page tried ("read the
// TaskRuns in ci"); NEED: the permission that would have allowed it.
function explain(err, what, need) {
  const m = err.message;
  switch (true) {
    case err.status === 0:
      return `Cannot ${what}: kubectl proxy does not answer. Is "kubectl approve ui" still running? Start it again and open the address it prints.`;
    case err.status === 401:
      return `Cannot ${what}: the cluster did not accept your credentials (401 Unauthorized). Log in again, then restart "kubectl approve ui".`;
    case err.status === 403 && m.includes('ValidatingAdmissionPolicy'):
      return `The approve-step admission policy refused to ${what}: ${m.replace(/^.*denied request: /s, '')}`;
    case err.status === 403 && !err.body?.trim().startsWith('{'):
      return `kubectl proxy refused to ${what} (403: ${m}). Open the console through the address "kubectl approve ui" printed.`;
    case err.status === 403:
      return `You may not ${what} (403 Forbidden: ${m}). Ask your namespace admin for the approver Role${need ? ` (${need})` : ''}, as in examples/quorum/rbac.yaml.`;
    case err.status === 404:
      return `Cannot ${what}: not found (${m}).`;
    case err.status === 422 || err.status === 400:
      return `The cluster refused to ${what}: ${m}`;
    case err.status >= 500:
      return `Cannot ${what}: kubectl proxy cannot reach the cluster (${err.status}: ${m}). Check your network and kubectl's context.`;
    default:
      return `Cannot ${what} (${err.status}: ${m}).`;
  }
}

const scopeText = ALL ? 'all namespaces' : `namespace ${NS}`;
const trPath = () => `/apis/tekton.dev/v1/${ALL ? '' : `namespaces/${NS}/`}taskruns`;
const trNeed = `get, list and watch on taskruns.tekton.dev in ${ALL ? 'every namespace' : NS}`;

// ------------------------------------------------------------------ who
async function whoAmI() {
  const review = await api('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }));
  state.me = review.status?.userInfo || {};
  if (!state.me.username) throw new ApiError(200, 'the SelfSubjectReview names no user');
  const groups = (state.me.groups || []).filter((g) => g !== 'system:authenticated');
  $('who').replaceChildren('You are ', el('strong', {}, state.me.username),
    groups.length ? ` (groups: ${groups.join(', ')})` : '', `, in ${scopeText}.`);
}

// ------------------------------------------------------------------ runs
function accept(tr) {
  // the namespace asked for, and nothing else, whatever a list returns
  return tr?.metadata?.uid && (ALL || tr.metadata.namespace === NS) && isApproval(tr);
}

async function listRuns() {
  const list = await api('GET', trPath());
  const seen = new Set();
  for (const tr of list.items || []) {
    if (!accept(tr)) continue;
    seen.add(tr.metadata.uid);
    upsert(tr, false);
  }
  for (const uid of state.runs.keys()) if (!seen.has(uid) && state.runs.get(uid).run.running) forget(uid);
  state.rv = list.metadata?.resourceVersion || '';
  state.listed = true;
  render();
}

function upsert(tr, live) {
  const run = describeRun(tr);
  const old = state.runs.get(run.uid);
  // finished runs are shown only if they finished recently or while watched
  if (!run.running && !old && !live && !recent(run)) return;
  state.runs.set(run.uid, { run, card: old?.card });
  if (run.running) loadCm(run);
}
const recent = (run) => Date.now() - Date.parse(run.finishedAt) < 24 * 3600 * 1000;

function forget(uid) {
  state.runs.get(uid)?.card?.remove();
  state.runs.delete(uid);
}

// Watches the TaskRuns from the last list, with reconnects; lists again when
// the watch's history is gone (410) or the stream breaks.
async function watchRuns() {
  let delay = 1000;
  for (;;) {
    if (delay > 1000) {
      setLive(`Reconnecting in ${delay / 1000} s…`, false);
      await sleep(delay);
    }
    delay = Math.min(delay * 2, 30000);
    try {
      if (!state.rv) await listRuns();
    } catch (err) {
      banner(explain(err, `read the TaskRuns in ${scopeText}`, trNeed));
      continue;
    }
    try {
      await watchOnce();
      delay = 1000;
    } catch (err) {
      if (err.status === 410) { state.rv = ''; delay = 1000; continue; }
      if (err.status === 403 && err.body?.trim().startsWith('{')) {
        setLive('Updates every 10 s (no permission to watch)', true);
        banner(explain(err, `watch the TaskRuns in ${scopeText}`, trNeed), 'warning');
        return pollRuns();
      }
      banner(explain(err, `watch the TaskRuns in ${scopeText}`, trNeed));
      state.rv = '';
    }
  }
}

async function watchOnce() {
  const q = `?watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(state.rv)}&timeoutSeconds=${300 + Math.floor(Math.random() * 300)}`;
  let res;
  try {
    res = await fetch(API + trPath() + q, { cache: 'no-store', headers: { Accept: 'application/json' } });
  } catch {
    throw new ApiError(0, 'no answer');
  }
  if (!res.ok) throw failure(res.status, await res.text());
  setLive('Live', true);
  banner('');
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch {
      throw new ApiError(0, 'the watch broke');
    }
    if (chunk.done) return;
    buf += chunk.value;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (!line) continue;
      let ev;
      try {
        ev = JSON.parse(line);
      } catch {
        throw new ApiError(502, `a watch event that is not JSON: ${line.slice(0, 100)}`);
      }
      event(ev);
    }
  }
}

function event(ev) {
  const o = ev.object || {};
  if (ev.type === 'ERROR') throw new ApiError(o.code || 500, o.message || 'watch error', JSON.stringify(o));
  if (o.metadata?.resourceVersion) state.rv = o.metadata.resourceVersion;
  if (ev.type === 'BOOKMARK') return;
  if (ev.type === 'DELETED') forget(o.metadata?.uid);
  else if (accept(o)) upsert(o, true);
  render();
}

async function pollRuns() {
  for (;;) {
    try {
      await listRuns();
    } catch (err) {
      banner(explain(err, `read the TaskRuns in ${scopeText}`, trNeed));
    }
    await sleep(10000);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ ConfigMaps
async function loadCm(run) {
  if (!isName(run.configMap)) return;
  const id = `${run.namespace}/${run.configMap}`;
  try {
    state.cms.set(id, await api('GET', `/api/v1/namespaces/${run.namespace}/configmaps/${run.configMap}`));
  } catch (err) {
    state.cms.set(id, { error: explain(err, `read ConfigMap ${id}`, `get on configmaps named ${run.configMap} in ${run.namespace}`) });
  }
  render();
}

// A PipelineRun's params, read once, when its card's "PipelineRun
// parameters" is first opened: what the run was started with. Read from
// its status subresource, which returns the whole object: the proxy lets
// no other PipelineRun path through, and there a POST or an apply cannot
// create a run. Only the run whose UID the TaskRun's controller reference
// names is shown.
const prId = (run) => `${run.namespace}/${run.pipelineRunUid}`;
async function loadPr(run) {
  const id = prId(run);
  if (!isName(run.pipelineRun) || !run.pipelineRunUid) return;
  state.prs.set(id, null); // being read: once, however many cards show it
  const where = `${run.namespace}/${run.pipelineRun}`;
  try {
    const pr = await api('GET', `/apis/tekton.dev/v1/namespaces/${run.namespace}/pipelineruns/${run.pipelineRun}/status`);
    state.prs.set(id, pr.metadata?.uid !== run.pipelineRunUid
      ? { error: `PipelineRun ${where} (UID ${pr.metadata?.uid}) is not the one that owns TaskRun ${run.name} (UID ${run.pipelineRunUid}): not shown.` }
      : paramPairs(pr.spec?.params));
  } catch (err) {
    state.prs.set(id, { error: explain(err, `read PipelineRun ${where}`, `get on pipelineruns/status in ${run.namespace}`) });
  }
  render();
}

// Votes by others arrive here: the approver Role need not watch ConfigMaps.
async function pollCms() {
  for (;;) {
    await sleep(5000);
    const one = new Map(); // one read per ConfigMap, however many runs share it
    for (const { run } of state.runs.values()) if (run.running) one.set(`${run.namespace}/${run.configMap}`, run);
    await Promise.all([...one.values()].map(loadCm));
  }
}

// ------------------------------------------------------------------ voting
async function vote(run, decision, comment) {
  const user = state.me.username;
  const id = `${run.namespace}/${run.configMap}`;
  const field = voteField(run, user);
  // as the plugin: a vote the API server would refuse for size is not sent
  const full = noRoom(run, user, decision, comment, state.cms.get(id));
  if (full) {
    note(run, full, 'error');
    return loadCm(run);
  }
  try {
    await api('PATCH', `/api/v1/namespaces/${run.namespace}/configmaps/${run.configMap}`,
      votePatch(run, user, decision, comment), 'application/merge-patch+json');
  } catch (err) {
    note(run, explain(err, `write your vote ${field} to ConfigMap ${id}`, `patch on configmaps named ${run.configMap} in ${run.namespace}`), 'error');
    return loadCm(run);
  }
  let nudged = `The TaskRun has no pod yet: the step reads your vote when it starts.`;
  if (run.pod && !isName(run.pod)) {
    nudged = `The TaskRun names "${run.pod}" as its pod, which is no pod name: nothing nudged; the step sees the vote within 1-2 minutes.`;
  } else if (run.pod) {
    const nudge = JSON.stringify({ metadata: { annotations: { 'approve-step/nudge': String(Math.floor(Date.now() / 1000)) } } });
    try {
      await api('PATCH', `/api/v1/namespaces/${run.namespace}/pods/${run.pod}`, nudge, 'application/merge-patch+json');
      nudged = `Nudged pod ${run.namespace}/${run.pod}: the step sees your vote within seconds.`;
    } catch (err) {
      nudged = `Your vote is recorded, but ${explain(err, `nudge pod ${run.namespace}/${run.pod}`, `patch on pods in ${run.namespace}`)} The step sees the vote within 1-2 minutes.`;
    }
  }
  note(run, `You ${decision === 'approved' ? 'approved' : 'refused'} as ${user}: wrote ${field} to ConfigMap ${id}. ${nudged}`, 'ok');
  return loadCm(run);
}

function note(run, text, kind) {
  state.notes.set(run.uid, { text, kind });
  render();
  const n = state.runs.get(run.uid)?.card?.querySelector('.note');
  n?.focus();
}

// ------------------------------------------------------------------ drawing
function render() {
  const waiting = [...state.runs.values()].filter((r) => r.run.running)
    .sort((a, b) => (a.run.since < b.run.since ? -1 : 1));
  const decided = [...state.runs.values()].filter((r) => !r.run.running)
    .sort((a, b) => (a.run.finishedAt > b.run.finishedAt ? -1 : 1));
  for (const r of decided.slice(DECIDED_MAX)) forget(r.run.uid);
  place($('waiting'), waiting.slice(0, WAITING_MAX));
  place($('decided'), decided.slice(0, DECIDED_MAX));
  // Before a list was read (a 403, no answer) nobody knows how many wait.
  $('waiting-count').textContent = state.listed ? String(waiting.length) : '?';
  $('decided-section').hidden = decided.length === 0;
  $('empty').hidden = waiting.length > 0 || !state.me;
  $('empty').textContent = state.listed
    ? `No approvals are waiting in ${scopeText}. New ones appear here by themselves.`
    : `The approvals waiting in ${scopeText} could not be read yet (see above).`;
  $('more').hidden = waiting.length <= WAITING_MAX;
  $('more').textContent = `${waiting.length - WAITING_MAX} more are not shown: use "kubectl approve list".`;
}

// Puts the cards of ENTRIES into LIST in order, each drawn afresh but for
// its comment field, so that typing and focus survive updates.
function place(list, entries) {
  let prev = null;
  for (const entry of entries) {
    entry.card ||= card(entry.run);
    fill(entry.card, entry.run);
    const want = prev ? prev.nextSibling : list.firstChild;
    if (want !== entry.card) list.insertBefore(entry.card, want);
    prev = entry.card;
  }
  while (prev ? prev.nextSibling : list.firstChild) (prev ? prev.nextSibling : list.firstChild).remove();
}

function card(run) {
  const h = `h-${run.uid}`;
  return el('li', {},
    el('article', { class: 'card', 'aria-labelledby': h },
      el('h3', { id: h }),
      el('p', { class: 'message' }),
      el('dl', { class: 'facts' }),
      el('div', { class: 'tally' }),
      el('div', { class: 'votes' }),
      el('div', { class: 'action' }),
      el('p', { class: 'note', tabindex: '-1', role: 'status' }),
      el('details', { class: 'run-params', ontoggle: openPr }, el('summary', {}, 'PipelineRun parameters'), el('dl', { class: 'params' })),
      el('details', { class: 'tr-params' }, el('summary', {}, 'TaskRun and parameters'), el('dl', { class: 'params' }))));
}

function openPr(ev) {
  const li = ev.currentTarget.closest('li');
  const run = state.runs.get(li?.dataset.uid)?.run;
  if (ev.currentTarget.open && run?.pipelineRun && !state.prs.has(prId(run))) loadPr(run);
}

// [[term, description]] as a definition list's children; [term] alone: no description
const pairs = (rows) => rows.flatMap(([k, ...v]) => (v.length ? [el('dt', {}, k), el('dd', {}, v[0])] : [el('dt', {}, k)]));

// What "PipelineRun parameters" shows: the params once read, or why not.
function prRows(run) {
  if (!run.pipelineRunUid) return [['Not shown', 'the TaskRun has no controller reference to a PipelineRun']];
  const pr = state.prs.get(prId(run));
  if (!pr) return [['Reading…']];
  if (pr.error) return [['Not readable', pr.error]];
  return pr.length ? pr : [['None', 'the run passes no params']];
}

function fill(li, run) {
  const cmId = `${run.namespace}/${run.configMap}`;
  const cm = state.cms.get(cmId);
  const cmOk = cm && !cm.error ? cm : null;
  const t = cmOk && !run.keyWhy ? tally(run, cmOk.data || {}) : null;
  li.dataset.uid = run.uid;
  li.dataset.state = run.running ? 'waiting' : 'decided';
  li.querySelector('h3').replaceChildren(run.pipelineRun || run.name, run.task ? el('span', { class: 'task' }, ` · ${run.task}`) : '');
  const need = run.mode === 'plain' ? 'one decision (no quorum)'
    : `${run.approvals} approval${run.approvals === '1' ? '' : 's'} from ${run.approvers.length ? run.approvers.join(', ') : 'anyone who may vote'}${run.requester ? `, not ${run.requester} (the requester)` : ''}`;
  const facts = [
    ['Namespace', run.namespace],
    ['Requested by', run.requester || 'not named'],
    ['Waiting since', timeEl(run.since)],
    run.running ? ['Time left', timeLeft(run)] : ['Finished', timeEl(run.finishedAt)],
    ['Needs', need],
    ['Votes go to', run.keyWhy ? 'nowhere: no key of this run can be told' : run.configMap ? `ConfigMap ${cmId}, key ${run.mode === 'vote' ? `${run.key}.NAME` : run.key}` : 'no ConfigMap bound'],
  ];
  li.querySelector('.facts').replaceChildren(...facts.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  li.querySelector('.tally').replaceChildren(...(run.running ? tallyView(run, cm, t) : outcome(run)));
  li.querySelector('.votes').replaceChildren(...(t && t.votes.length ? [votesView(t)] : []));
  // what can be said without the votes first, then what needs them
  let why = state.me ? whyNot(run, state.me.username, null) : 'Finding out who you are…';
  if (!why) why = cmOk ? whyNot(run, state.me.username, cmOk) : cm ? 'You can vote once the votes can be read.' : 'Reading the votes…';
  drawAction(li.querySelector('.action'), run, why);
  const n = state.notes.get(run.uid);
  const noteEl = li.querySelector('.note');
  noteEl.textContent = n ? visible(n.text) : '';
  noteEl.className = `note ${n ? n.kind : ''}`;
  noteEl.hidden = !n;
  const msg = li.querySelector('.message');
  msg.textContent = visible(run.message);
  msg.hidden = !run.message;
  li.querySelector('.run-params').hidden = !run.pipelineRun;
  li.querySelector('.run-params .params').replaceChildren(...pairs(prRows(run)));
  li.querySelector('.tr-params .params').replaceChildren(...pairs([['TaskRun', run.name], ['Pod', run.pod || 'none yet'], ...run.params]));
}

function tallyView(run, cm, t) {
  if (run.keyWhy || !isName(run.configMap)) return [];
  if (!cm) return [el('p', {}, 'Reading the votes…')];
  if (cm.error) return [el('p', { class: 'error' }, cm.error)];
  const out = [];
  if (cm.metadata?.labels?.['approve-step/gate'] !== 'true') {
    out.push(el('p', { class: 'warning' }, `ConfigMap ${run.namespace}/${run.configMap} is not labelled approve-step/gate=true: the admission policy does not protect its votes.`));
  }
  if (run.mode === 'plain') {
    out.push(el('p', { class: 'progress' }, t.plain.decision === 'absent' || t.plain.decision === 'pending'
      ? `No decision yet (key ${run.key}): one approval or refusal decides.` : `Decision: ${t.plain.decision} (key ${run.key}).`));
    return out;
  }
  let line;
  if (t.decided === 'refused') line = `Refused by ${t.refused.join(', ')}.`;
  else if (t.decided === 'approved') line = `Approved by ${t.approved.join(', ')} (${t.approved.length} of ${t.need}).`;
  else {
    line = `${t.approved.length} of ${t.need} approvals${t.approved.length ? ` (${t.approved.join(', ')})` : ''}; still needed: ${t.need - t.approved.length} more`;
    if (run.approvers.length) line += t.left.length ? ` from ${t.left.join(', ')}.` : ': nobody is left who could approve.';
    else line += run.requester ? ` from anyone but ${run.requester}.` : '.';
  }
  out.push(el('p', { class: 'progress' },
    el('progress', { max: String(t.need), value: String(Math.min(t.approved.length, t.need)), 'aria-hidden': 'true' }), ' ', line));
  return out;
}

function votesView(t) {
  return el('ul', { class: 'vote-list', 'aria-label': 'Votes so far' }, t.votes.map((v) => el('li', { class: v.decision },
    el('span', { class: 'voter' }, v.voter), ' ', el('span', { class: 'decision' }, v.decision),
    v.comment ? [': ', el('q', {}, v.comment)] : '',
    v.counted ? '' : el('span', { class: 'uncounted' }, ` (not counted: ${v.why})`))));
}

function outcome(run) {
  const r = run.results;
  const c = run.condition;
  let text;
  const by = r.approver ? ` by ${r.approver.split(',').join(', ')}` : '';
  if (r.decision === 'approved') text = `Approved${by}`;
  else if (r.decision === 'refused') text = `Refused${by}`;
  else if (r.decision === 'timeout' || c.reason === 'TaskRunTimeout') text = 'Timed out: nobody decided in time';
  else if (r.decision === 'cancelled' || /Cancel/.test(c.reason || '')) text = 'Cancelled';
  else text = c.status === 'True' ? 'Finished' : `Failed (${c.reason || 'unknown reason'})`;
  return [el('p', { class: `outcome ${r.decision || (c.status === 'True' ? 'approved' : 'refused')}` },
    text, r.comment ? [': ', el('q', {}, r.comment)] : '', '.')];
}

// The vote form, or why there is none. The form is kept while the reason
// stays the same, so a comment being typed survives the live updates.
// Only the vote policy makes a vote final, and it guards labelled ConfigMaps
// only: elsewhere anyone who may patch the ConfigMap may change it.
function finality(cm) {
  return cm?.metadata?.labels?.['approve-step/gate'] === 'true'
    ? 'A vote is final.'
    : 'This ConfigMap is not protected by a policy: anyone who may patch it can change or remove your vote.';
}

function drawAction(box, run, why) {
  const key = why || 'form';
  if (box.dataset.key === key) return;
  box.dataset.key = key;
  if (why) {
    const cls = why.endsWith('…') ? 'loading' : 'why';
    box.replaceChildren(run.running ? el('p', { class: cls }, why) : '');
    return;
  }
  const cid = `c-${run.uid}`;
  const comment = el('textarea', { id: cid, rows: '2', maxlength: '2000', autocomplete: 'off' });
  const confirmBox = el('div', { class: 'confirm', role: 'group', 'aria-label': 'Confirm your vote', hidden: true });
  const ask = (decision) => () => {
    const word = decision === 'approved' ? 'Approve' : 'Refuse';
    const id = `${run.namespace}/${run.configMap}`;
    const yes = el('button', { type: 'button', class: decision, onclick: async () => {
      yes.disabled = true;
      yes.textContent = 'Writing your vote…';
      await vote(run, decision, comment.value);
      // still here: the vote failed (a written vote replaces the form)
      confirmBox.hidden = true;
      buttons.hidden = false;
    } }, `Yes, ${word.toLowerCase()}`);
    const no = el('button', { type: 'button', onclick: () => { confirmBox.hidden = true; buttons.hidden = false; buttons.querySelector('button').focus(); } }, 'Cancel');
    confirmBox.replaceChildren(
      el('p', {}, `${word} ${run.pipelineRun || run.name} as ${state.me.username}? This writes ${voteField(run, state.me.username)} to ConfigMap ${id}. ${finality(state.cms.get(id))}`),
      yes, ' ', no);
    buttons.hidden = true;
    confirmBox.hidden = false;
    yes.focus();
  };
  // the card's heading describes each button: "Approve, release-42 · approval"
  const about = `h-${run.uid}`;
  const buttons = el('div', { class: 'buttons' },
    el('button', { type: 'button', class: 'approved', 'aria-describedby': about, onclick: ask('approved') }, 'Approve'), ' ',
    el('button', { type: 'button', class: 'refused', 'aria-describedby': about, onclick: ask('refused') }, 'Refuse'));
  box.replaceChildren(el('div', { class: 'vote-form' },
    el('label', { for: cid }, 'Comment (optional, recorded with your vote)'), comment, buttons, confirmBox));
}

// ------------------------------------------------------------------ start
async function start() {
  if (window.top !== window.self) {
    document.body.textContent = 'The approver console does not run inside a frame.';
    return;
  }
  $('scope').textContent = scopeText;
  if (!/^[0-9a-f]{32}$/.test(secret) || (!ALL && !/^[a-z0-9-]+$/.test(NS))) {
    banner('This address lacks the console\'s secret or namespace. Open the address that "kubectl approve ui" printed, in full.');
    setLive('Not connected', false);
    return;
  }
  try {
    await whoAmI();
  } catch (err) {
    banner(explain(err, 'find out who you are (SelfSubjectReview, as kubectl auth whoami)', 'create on selfsubjectreviews, which every signed-in user has by default'));
    setLive('Not connected', false);
    return;
  }
  setInterval(render, 15000);
  pollCms();
  watchRuns();
}

start();
