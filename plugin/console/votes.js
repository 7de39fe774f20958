// How approve-step and kubectl-approve read an approval: the TaskRun's gate
// params, the vote keys and their encoding, the count. No DOM, no network:
// console.js draws what these functions return.

// A ConfigMap key part for a user name: every byte outside [-.a-zA-Z0-9]
// becomes _xx (UTF-8 bytes, lowercase hex), as the plugin's encode_name.
export function encodeName(name) {
  let out = '';
  for (const b of new TextEncoder().encode(name)) {
    const c = String.fromCharCode(b);
    out += /^[-.a-zA-Z0-9]$/.test(c) ? c : '_' + b.toString(16).padStart(2, '0');
  }
  return out;
}

// The user name a vote key part stands for; '' unless canonically encoded.
export function decodeName(enc) {
  const bytes = [];
  for (let i = 0; i < enc.length; i++) {
    const c = enc[i];
    if (/^[-.a-zA-Z0-9]$/.test(c)) { bytes.push(c.charCodeAt(0)); continue; }
    const hex = enc.slice(i + 1, i + 3);
    if (c !== '_' || !/^[0-9a-f]{2}$/.test(hex)) return '';
    const n = parseInt(hex, 16);
    if (n === 0 || /^[-.a-zA-Z0-9]$/.test(String.fromCharCode(n))) return '';
    bytes.push(n);
    i += 2;
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(new Uint8Array(bytes));
  } catch {
    return '';
  }
}

// TEXT as a JSON string literal, byte for byte as the plugin's json_string:
// \\ \" \n \t \r, other controls as \u00xx, DEL as \u007f, the rest as is.
export function jsonString(text) {
  let out = '"';
  for (const ch of text) {
    const n = ch.codePointAt(0);
    if (ch === '\\') out += '\\\\';
    else if (ch === '"') out += '\\"';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (n < 32 || n === 127) out += '\\u' + n.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

const WORDS = {
  approved: 'approved', approve: 'approved', success: 'approved',
  refused: 'refused', refuse: 'refused', rejected: 'refused', reject: 'refused', denied: 'refused',
  '': 'pending', init: 'pending', pending: 'pending', notifying: 'pending', notified: 'pending', waiting: 'pending',
};
// As approve-step (decision.c): ASCII spaces around, any ASCII case.
const word = (w) => {
  const t = String(w).replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '').replace(/[A-Z]/g, (c) => c.toLowerCase());
  return Object.hasOwn(WORDS, t) ? WORDS[t] : 'unknown';
};

// Whether the JSON text RAW names "decision", "approver" or "comment" more
// often than the parsed O holds them: a member given twice, which readers
// take differently (approve-step reads no decision in it).
function twice(raw, o) {
  const held = (v, n) => (v && typeof v === 'object'
    ? Object.entries(v).reduce((c, [k, x]) => c + (k === n ? 1 : 0) + held(x, n), 0) : 0);
  return ['decision', 'approver', 'comment'].some((n) =>
    (raw.match(new RegExp(`"${n}"[ \\t\\n\\r]*:`, 'g')) || []).length > held(o, n));
}

// A key's value: {decision: approved|refused|pending|unknown, comment}, as
// approve-step reads it: a decision word, or a JSON object whose "decision"
// is one ({"decision":"pending"} is pending, not a vote); not one with a NUL
// or \u0000, naming a member twice, or without a top-level string decision.
export function readVote(value) {
  const v = String(value);
  const none = { decision: 'unknown', comment: '' };
  if (v.includes('\0')) return none;
  if (!/^[ \t\n\r\v\f]*\{/.test(v)) return { decision: word(v), comment: '' };
  if (/(^|[^\\])(\\\\)*\\u0000/.test(v)) return none;
  let o;
  try {
    o = JSON.parse(v);
  } catch {
    return none;
  }
  if (!o || typeof o !== 'object' || Array.isArray(o) || twice(v, o) || typeof o.decision !== 'string') return none;
  return { decision: word(o.decision), comment: typeof o.comment === 'string' ? o.comment : '' };
}

const condition = (tr) => (tr.status?.conditions || []).find((c) => c.type === 'Succeeded') || {};
const CTX_NAME = '$(context.taskRun.name)';
const CTX_UID = '$(context.taskRun.uid)';

const PARAM_REF = /\$\(params\.([^()]+)\)/g;
const hasSpec = (tr) => { const ts = tr.status?.taskSpec; return !!ts && typeof ts === 'object' && !Array.isArray(ts); };

// The gate of TR: the first step of its status.taskSpec (as Tekton
// resolved the Task, a StepAction included) whose command is
// /approve-step, whatever Task holds it; null if none (the plugin's gate_step).
export function gateStep(tr) {
  if (!hasSpec(tr)) return null;
  return (tr.status.taskSpec.steps || []).find((s) => s && typeof s === 'object' && Array.isArray(s.command) &&
    s.command[0] === '/approve-step') || null;
}

// The options of STEP as approve-step (getopt_long) reads command[1:] +
// args: every long option takes a value, --NAME VALUE or --NAME=VALUE, the
// last one given wins; "--" ends them (the plugin's step_opts).
function stepOpts(step) {
  const o = new Map();
  if (!step) return o;
  const a = [...step.command.slice(1), ...(Array.isArray(step.args) ? step.args : [])];
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x !== 'string' || !x.startsWith('--')) continue;
    if (x === '--') break;
    const eq = x.indexOf('=');
    if (eq >= 0) o.set(x.slice(2, eq), x.slice(eq + 1));
    else if (i + 1 < a.length && typeof a[i + 1] === 'string') o.set(x.slice(2), a[++i]);
  }
  return o;
}

// The gate step's options with $(params.NAME) replaced by the TaskRun's
// param or the Task's default (one pass, as Tekton; one it cannot resolve
// stays), then $(context.taskRun.name/uid) (the plugin's gate_opts).
export function gateOpts(tr) {
  const m = new Map();
  for (const p of tr.status?.taskSpec?.params || []) if (typeof p?.name === 'string') m.set(p.name, p.default);
  for (const p of tr.spec?.params || []) if (typeof p?.name === 'string') m.set(p.name, p.value);
  const subst = (v) => v.replace(PARAM_REF, (all, n) => (typeof m.get(n) === 'string' ? m.get(n) : all))
    .split(CTX_NAME).join(tr.metadata.name).split(CTX_UID).join(tr.metadata.uid || '');
  const o = stepOpts(gateStep(tr));
  for (const [k, v] of o) o.set(k, subst(v));
  return o;
}

// The key the step waits on, as Tekton resolves it into status.taskSpec
// (the plugin's resolved_key): the --key of the step whose command is
// /approve-step, else approve-step's own default (status). The Task's
// default is the run's name and UID, so that a reused name meets none of
// its old votes. '' without status.taskSpec. OPTS: gateOpts(tr), if known.
export function runKey(tr, opts = gateOpts(tr)) {
  if (!hasSpec(tr)) return '';
  return opts.get('key') ?? 'status';
}

// The workspace the gate step reads: the one whose path its --dir is
// ($(workspaces.NAME.path), or its mount path); '' if none.
function dirWorkspace(tr, opts) {
  const d = opts.get('dir') ?? '';
  const mount = new Map((tr.status?.taskSpec?.workspaces || []).filter((w) => typeof w?.name === 'string')
    .map((w) => [w.name, w.mountPath || `/workspace/${w.name}`]));
  const w = (tr.spec?.workspaces || []).find((b) => typeof b?.name === 'string' &&
    (d === `$(workspaces.${b.name}.path)` || d === (mount.get(b.name) || `/workspace/${b.name}`)));
  return w || null;
}

// The ConfigMap to write and why there is none (the plugin's target): the
// gate step's --configmap, else the ConfigMap bound to W, the workspace of
// its --dir (dirWorkspace).
function target(tr, opts, w) {
  if (!gateStep(tr)) return { name: '', why: '' };
  const c = opts.get('configmap') ?? '';
  if (c !== '') return c.includes('$(') ? { name: '', why: `its step's --configmap "${c}" is not resolved` } : { name: c, why: '' };
  if (!w) return { name: '', why: `its step names no --configmap, and its --dir "${opts.get('dir') ?? ''}" is no workspace's path` };
  if (!w.configMap) return { name: '', why: `its step names no --configmap, and reads workspace ${w.name}, which is bound to no ConfigMap` };
  return { name: String(w.configMap.name ?? ''), why: '' };
}

// Why no vote may go to the key of TR, or '': only a key that names the
// TaskRun's UID is voted on, as by the plugin (key_problem). A key param
// may name any key, and one not derived from this run (another run's, a
// shared one such as status) could let one approval approve two runs.
// OPTS: gateOpts(tr), if known.
export function keyProblem(tr, opts = gateOpts(tr)) {
  const where = `${tr.metadata.namespace}/${tr.metadata.name}`;
  if (!hasSpec(tr)) {
    return `TaskRun ${where} is not resolved yet (no status.taskSpec): cannot tell which key it waits on; try again when it runs.`;
  }
  if (!gateStep(tr)) {
    return `TaskRun ${where} has no approve-step step (none in its status.taskSpec has the command /approve-step): nothing in it waits for a vote.`;
  }
  const key = runKey(tr, opts);
  const uid = tr.metadata.uid || '';
  if (key.includes('$(')) return `Cannot resolve the key "${key}" of TaskRun ${where}: cannot tell which key it waits on.`;
  for (const n of ['approvals', 'approvers', 'requester']) {
    if ((opts.get(n) ?? '').includes('$(')) return `Cannot resolve the --${n} "${opts.get(n)}" of TaskRun ${where}: cannot tell whose votes count.`;
  }
  if (uid === '') return `TaskRun ${where} has no metadata.uid: cannot tell whether its key "${key}" is its own.`;
  if (!key.includes(uid)) {
    return `TaskRun ${where} waits on key ${key}, which does not name its UID ${uid}: refusing, since a key not derived from the run could approve another run.`;
  }
  return '';
}

// Whether a TaskRun is an approval gate, as `kubectl approve list` decides:
// a step whose command is /approve-step in its status.taskSpec, whatever
// Task holds it; or, not resolved yet (no status.taskSpec), of the
// approve-step Task: shown as not resolved, never guessed.
export function isApproval(tr) {
  if (hasSpec(tr)) return gateStep(tr) !== null;
  return (tr.metadata?.labels || {})['tekton.dev/task'] === 'approve-step';
}

export const isRunning = (tr) => !['True', 'False'].includes(condition(tr).status);

// Whole seconds or a Go duration (h, m, s, ms), as approve-step's --timeout.
export function parseDuration(text) {
  const s = String(text).trim();
  if (/^[0-9]+$/.test(s)) return Number(s);
  const re = /([0-9]+)(ms|h|m|s)/gy;
  let total = 0;
  let m;
  let end = 0;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * { h: 3600, m: 60, s: 1, ms: 0.001 }[m[2]];
    end = re.lastIndex;
  }
  return s !== '' && end === s.length ? total : null;
}

// [[name, value]] of a run's params, a value not a string as its JSON.
export const paramPairs = (params) => (params || []).map((p) => [String(p.name), typeof p.value === 'string' ? p.value : JSON.stringify(p.value)]);

// Everything the page needs to know about one approval TaskRun.
export function describeRun(tr) {
  const labels = tr.metadata.labels || {};
  const opts = gateOpts(tr);
  const dirWs = dirWorkspace(tr, opts);
  const dest = target(tr, opts, dirWs);
  const bound = dirWs?.configMap ? dirWs : null;
  const key = runKey(tr, opts);
  const keyWhy = keyProblem(tr, opts);
  const approvals = opts.get('approvals') || '1';
  const approvers = [];
  for (const a of (opts.get('approvers') ?? '').split(',')) {
    const t = a.replace(/^ +| +$/g, '');
    if (t !== '' && !approvers.includes(t)) approvers.push(t);
  }
  const requester = opts.get('requester') ?? '';
  const vote = approvals !== '1' || approvers.length > 0 || requester !== '';
  const step = (tr.status?.steps || []).find((s) => s.running || s.terminated);
  const since = step?.running?.startedAt || tr.status?.startTime || tr.metadata.creationTimestamp;
  const timeout = parseDuration(opts.get('timeout') || '86400');
  const results = Object.fromEntries((tr.status?.results || tr.status?.taskResults || [])
    .map((r) => [r.name, typeof r.value === 'string' ? r.value : JSON.stringify(r.value)]));
  return {
    uid: tr.metadata.uid, name: tr.metadata.name, namespace: tr.metadata.namespace,
    pipelineRun: labels['tekton.dev/pipelineRun'] || '',
    task: labels['tekton.dev/pipelineTask'] || labels['tekton.dev/task'] || '',
    pod: tr.status?.podName || '', configMap: dest.name, configMapWhy: dest.why,
    resolved: hasSpec(tr),
    remapped: !!(bound && (bound.configMap.items?.length || bound.subPath)),
    key, keyWhy, approvals, approvers, requester,
    mode: vote ? 'vote' : 'plain', since, timeout, onTimeout: opts.get('on-timeout') || 'refuse',
    runTimeout: tr.spec?.timeout ? parseDuration(tr.spec.timeout) : null,
    running: isRunning(tr), condition: condition(tr), results,
    finishedAt: tr.status?.completionTime || condition(tr).lastTransitionTime || '',
    params: paramPairs(tr.spec?.params),
    // what the approvers are asked to approve: the gate step's --message
    message: opts.get('message') ?? '',
    // the PipelineRun that controls it: a label names any run, a name is reused
    pipelineRunUid: (tr.metadata.ownerReferences || []).find((o) => o.kind === 'PipelineRun' && o.controller === true)?.uid || '',
  };
}

// The count of the votes in DATA (a ConfigMap's data) for RUN, as approve-step
// counts: refused once a counted vote refuses, approved once `approvals`
// distinct counted voters approve.
// Kubernetes' own identities (ServiceAccounts, nodes, controllers): they
// vote only when named in approvers, as approve-step counts.
export const isSystemUser = (user) => user.startsWith('system:');

export function tally(run, data) {
  const need = Math.max(1, parseInt(run.approvals, 10) || 1);
  if (run.mode === 'plain') {
    const v = run.key in data ? readVote(data[run.key]) : { decision: 'absent', comment: '' };
    const decided = ['approved', 'refused'].includes(v.decision) ? v.decision : null;
    return { need: 1, approved: decided === 'approved' ? ['?'] : [], refused: [], decided, votes: [], left: [], plain: v };
  }
  const prefix = run.key + '.';
  const votes = [];
  for (const k of Object.keys(data).filter((x) => x.startsWith(prefix)).sort()) {
    const voter = decodeName(k.slice(prefix.length));
    if (voter === '') continue;
    const v = readVote(data[k]);
    let why = '';
    if (!['approved', 'refused'].includes(v.decision)) why = v.decision === 'pending' ? 'no decision yet' : 'not a decision';
    else if (run.requester !== '' && voter === run.requester) why = 'the requester';
    else if (run.approvers.length > 0 && !run.approvers.includes(voter)) why = 'not an approver';
    else if (run.approvers.length === 0 && isSystemUser(voter)) why = 'a ServiceAccount, not named in approvers';
    votes.push({ voter, key: k, ...v, counted: why === '', why });
  }
  const approved = votes.filter((v) => v.counted && v.decision === 'approved').map((v) => v.voter);
  const refused = votes.filter((v) => v.counted && v.decision === 'refused').map((v) => v.voter);
  const decided = refused.length ? 'refused' : approved.length >= need ? 'approved' : null;
  const done = new Set(votes.filter((v) => ['approved', 'refused'].includes(v.decision)).map((v) => v.voter));
  const left = run.approvers.filter((a) => !done.has(a) && a !== run.requester);
  return { need, approved, refused, decided, votes, left };
}

// An object name as the API server allows it (a DNS subdomain): nothing
// from a TaskRun goes into a request path unless it is one.
export const isName = (s) => typeof s === 'string' && s.length <= 253 && /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(s) && !s.includes('..');

// Why USER's vote on RUN would not count or cannot be written, or '' if it
// can: the plugin's checks, in its order, plus a binding that remaps keys.
export function whyNot(run, user, cm) {
  if (!run.running) return 'This approval has finished.';
  if (run.keyWhy) return run.keyWhy;
  if (!run.configMap) {
    return `The TaskRun has no ConfigMap to vote in: ${run.configMapWhy || 'none is named'}; use kubectl approve --configmap.`;
  }
  if (!isName(run.configMap)) {
    return `The TaskRun names "${run.configMap}" as its ConfigMap, which is no ConfigMap name: the page writes nothing there.`;
  }
  if (run.remapped) {
    return `The TaskRun's workspace maps chosen keys of ConfigMap ${run.configMap} (items or subPath): the step may read other keys than the ones you would write. Do not vote; ask the pipeline's owner to bind the ConfigMap whole.`;
  }
  if (!/^[-._a-zA-Z0-9]+$/.test(run.key) || run.key === '.' || run.key.startsWith('..')) {
    return `The TaskRun waits on key "${run.key}", which is not a ConfigMap key: nobody can vote on it.`;
  }
  if (!/^[0-9]+$/.test(run.approvals)) return `The TaskRun has approvals "${run.approvals}", not a number.`;
  if (!cm) return '';
  const gated = cm.metadata?.labels?.['approve-step/gate'] === 'true';
  if (run.mode === 'vote') {
    if (run.key.includes('.') && gated) {
      return `The key "${run.key}" contains a dot: under the approve-step policy nobody can vote on it. Ask the pipeline's owner to set a key without dots.`;
    }
    if (user === run.requester) return `You (${user}) requested this run: your vote would not count.`;
    if (run.approvers.length && !run.approvers.includes(user)) {
      return `You (${user}) are not among the approvers (${run.approvers.join(', ')}): your vote would not count.`;
    }
    if (!run.approvers.length && isSystemUser(user)) {
      return `You (${user}) are a ServiceAccount or other system: user, which votes only when named in approvers: your vote would not count.`;
    }
  } else if (gated) {
    return 'This run takes a single decision in a plain key, which the approve-step policy lets nobody write: the pipeline needs approvers, a requester or approvals above 1.';
  }
  const field = voteField(run, user);
  const mine = field in (cm.data || {}) ? readVote(cm.data[field]).decision : 'absent';
  if (mine === 'approved' || mine === 'refused') return `You already voted: ${mine}. A vote is final.`;
  if (mine === 'unknown') return `Your key ${field} already holds a value that is no decision word: a vote is final.`;
  return noRoom(run, user, 'refused', '', cm); // the smallest vote; the one sent is checked again
}

// The bytes of a ConfigMap as the API server counts them against its limit:
// every key and value of data, and of binaryData (decoded from base64).
export const CONFIGMAP_MAX = 1048576;
const utf8Length = (t) => new TextEncoder().encode(String(t)).length;
const base64Length = (t) => {
  const b = String(t);
  return Math.floor(b.length / 4) * 3 - (b.endsWith('==') ? 2 : b.endsWith('=') ? 1 : 0);
};
export function configMapBytes(cm) {
  let n = 0;
  for (const [k, v] of Object.entries(cm?.data || {})) n += utf8Length(k) + utf8Length(v);
  for (const [k, v] of Object.entries(cm?.binaryData || {})) n += utf8Length(k) + base64Length(v);
  return n;
}

// Why the vote would not fit into CM (the API server would refuse it), or
// '': the plugin's check_room, with approve-step's hint.
export function noRoom(run, user, decision, comment, cm) {
  const field = voteField(run, user);
  const data = cm?.data || {};
  const have = configMapBytes(cm);
  const value = utf8Length(voteValue(run, user, decision, comment));
  const need = have + value + (field in data ? -utf8Length(data[field]) : utf8Length(field));
  if (need <= CONFIGMAP_MAX) return '';
  return `ConfigMap ${run.namespace}/${run.configMap} holds ${have} bytes (keys and values of data and binaryData, as the API server counts): your vote would take it to ${need}, past the ${CONFIGMAP_MAX} bytes a ConfigMap may hold, and the API server would refuse it; nothing written. Archive it and start an empty one, or use a ConfigMap per run (docs/approvers.md, Capacity).`;
}

export const voteField = (run, user) => (run.mode === 'vote' ? `${run.key}.${encodeName(user)}` : run.key);

// The merge patch the plugin sends for a vote, as the same bytes.
export function voteValue(run, user, decision, comment) {
  return run.mode === 'vote'
    ? `{"decision":"${decision}","comment":${jsonString(comment)}}`
    : `{"decision":"${decision}","approver":${jsonString(user)},"comment":${jsonString(comment)}}`;
}
export function votePatch(run, user, decision, comment) {
  return `{"data":{"${voteField(run, user)}":${jsonString(voteValue(run, user, decision, comment))}}}`;
}
