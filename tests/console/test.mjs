// Browser tests of the approver console: `kubectl approve ui --no-browser`
// (the real plugin, the real kubectl proxy) in front of the fake API server
// of cluster.py, driven in Debian's Chromium by playwright-core. Prints one
// PASS/FAIL line per case and "N passed, N failed"; writes the screenshots
// docs/console.png and docs/console-dark-phone.png from the fixture.
//
//   node test.mjs [CASE-SUBSTRING...]
//
// The cases are in votes.mjs, page.mjs and command.mjs, registered in that
// order; kit.mjs is what they share (the cluster, the plugin, the browser).

import { Tally } from '../lib/tally.mjs';
import { cases, fake, finish, stop, uis } from './kit.mjs';

const only = process.argv.slice(2);
await import('./votes.mjs');
await import('./page.mjs');
await import('./command.mjs');

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
await finish();
process.exit(tally.close());
