// Tests of policy/approve-step-votes.yaml: the exact CEL expressions read from
// the policy file, evaluated by an independent CEL implementation
// (@bufbuild/cel) against admission requests. Prints one PASS/FAIL line per
// case and a closing "N passed, M failed"; exits 1 on any failure.
//
// The sections run in order, one module each: votes.mjs (the votes policy:
// its CEL subset, cases.yaml, the name encoding, random requests),
// examples.mjs (the example's binding and objects, the requester policy),
// runs.mjs (the runs policy); kit.mjs is what they share.

import { relative } from "node:path";
import { BINDING, POLICY, root, tally } from "./kit.mjs";

console.log(`# policy ${relative(root, POLICY)}, binding ${relative(root, BINDING)}`);
await import("./votes.mjs");
await import("./examples.mjs");
await import("./runs.mjs");
await import("./walk.mjs");
process.exit(tally.close());
