"""Cases of how the plugin finds a gate: by the step whose command is
/approve-step in the TaskRun's status.taskSpec, whatever Task holds it, with
its quorum, key and ConfigMap read from that step's args."""

from fixture import (CASES, CONFIG_NS, WHOAMI, annotate, expect, find, get_cm, get_tr, list_tr_of,
                     no_writes, patch, run_plugin, set_param, vote_json)

SHIP_KEY = "ship-9-deploy-7a1e2b3c-4d5e-4f60-8a7b-9c0d1e2f3a41"
PER_RUN_KEY = "release-7x9k-approval-8b2f3c4d-5e6f-4071-9b8c-0d1e2f3a4b51"
KEY42 = "release-42-approval-5f0f1c44-8f5e-4b8e-9d49-0e9a6b1e7a19"


@CASES.add("a StepAction gate in a user's own Task (no approve-step label, no quorum params): listed, approved by PipelineRun name")
def stepaction_gate_in_own_task():
    r = run_plugin(["list", "-n", "apps"])
    p = expect(r, 0, out=(
        "TASKRUN         PIPELINERUN   CONFIGMAP    KEY                                                  NEEDS                                    VOTES   MESSAGE\n"
        f"ship-9-deploy   ship-9        ship-votes   {SHIP_KEY}   1 of alice@example.com,bob@example.com   -       -\n"),
        err_empty=True)
    r = run_plugin(["ship-9", "-n", "apps", "-m", "ship it"])
    p += expect(r, 0, [WHOAMI, get_tr("ship-9", "apps"), list_tr_of("ship-9", "apps"), get_cm("ship-votes", "apps"),
                       patch("ship-votes", "apps", SHIP_KEY + ".alice_40example.com", vote_json("approved", "ship it")),
                       annotate("ship-9-deploy-pod", "apps")],
                out_has=["approved TaskRun apps/ship-9-deploy as alice@example.com: wrote "
                         f"{SHIP_KEY}.alice_40example.com to ConfigMap apps/ship-votes\n",
                         "decision: approved by alice@example.com (1 of 1)"], err_empty=True)
    # the approvers are the step's literal --approvers: carol's vote would not count
    r = run_plugin(["ship-9", "-n", "apps"], lambda s: s.update(user="carol@example.com"))
    p += expect(r, 1, err_has=["you (carol@example.com) are not among the approvers of ship-9-deploy "
                               "(alice@example.com,bob@example.com)"]) + no_writes(r)
    return p


@CASES.add("attack: approvers params on a TaskRun whose step reads literal --approvers do not widen who may vote")
def params_of_other_names_not_used():
    # the TaskRun carries an approvers param its step never reads
    r = run_plugin(["ship-9", "-n", "apps"], lambda s: (
        s.update(user="mallory@example.com"),
        set_param(find(s, "TaskRun", "ship-9-deploy", "apps"), "approvers", "mallory@example.com")))
    return expect(r, 1, err_has=["you (mallory@example.com) are not among the approvers of ship-9-deploy "
                                 "(alice@example.com,bob@example.com)"]) + no_writes(r)


@CASES.add("examples/per-run-configmap: `kubectl approve \"$PR\"` writes to the run's own ConfigMap (workspace an emptyDir)")
def per_run_configmap_by_pipelinerun():
    ns = "approve-per-run"
    r = run_plugin(["release-7x9k", "-n", ns, "-m", "checked"])
    p = expect(r, 0, [WHOAMI, get_tr("release-7x9k", ns), list_tr_of("release-7x9k", ns),
                      get_cm("release-7x9k-votes", ns),
                      patch("release-7x9k-votes", ns, PER_RUN_KEY + ".alice_40example.com", vote_json("approved", "checked")),
                      annotate("release-7x9k-approval-pod", ns)],
               out_has=[f"wrote {PER_RUN_KEY}.alice_40example.com to ConfigMap {ns}/release-7x9k-votes",
                        "approvals: 1 of 2 (alice@example.com); still needed: 1 more from bob@example.com, carol@example.com"],
               err_empty=True)
    if find(r.state, "ConfigMap", "release-7x9k-votes", ns)["data"].get(PER_RUN_KEY + ".alice_40example.com") is None:
        p.append("the per-run ConfigMap holds no vote")
    return p


@CASES.add("a configmap param names the ConfigMap to write, not the one bound to the workspace")
def configmap_param_is_the_target():
    def setup(s):
        set_param(find(s, "TaskRun", "release-42-approval"), "configmap", "release-42-votes")
        s["items"].append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "release-42-votes", "namespace": "ci", "labels": {"approve-step/gate": "true"}}, "data": {}})
    r = run_plugin(["release-42"], setup)
    p = expect(r, 0, [WHOAMI, CONFIG_NS, get_tr("release-42"), list_tr_of("release-42"), get_cm("release-42-votes", "ci"),
                      patch("release-42-votes", "ci", KEY42 + ".alice_40example.com", vote_json("approved", "")),
                      annotate("release-42-approval-pod", "ci")], err_empty=True)
    if any(k.startswith(KEY42) for k in find(r.state, "ConfigMap", "approve-cm")["data"]):
        p.append("wrote to the workspace's ConfigMap")
    r = run_plugin(["list"], setup)
    p += expect(r, 0, out_has=[f"release-42-approval     release-42    release-42-votes   {KEY42}"])
    return p


@CASES.add("a TaskRun not resolved yet (no status.taskSpec) is listed as such, and not voted on")
def unresolved_listed_as_such():
    def setup(s):
        del find(s, "TaskRun", "release-42-approval")["status"]["taskSpec"]
    r = run_plugin(["list"], setup)
    p = expect(r, 0, out_has=["release-42-approval     release-42    ?           ?    "
                              "                                                        not resolved yet   -       -\n"],
               err_has=["no votes taken (key ?):\n  TaskRun ci/release-42-approval is not resolved yet (no status.taskSpec)"])
    r = run_plugin(["release-42"], setup)
    p += expect(r, 1, err_has=["TaskRun ci/release-42-approval is not resolved yet (no status.taskSpec)"]) + no_writes(r)
    return p


@CASES.add("a PipelineRun with a gate and a TaskRun not resolved yet: both named, none guessed")
def pipelinerun_gate_and_unresolved():
    def setup(s):
        tr = find(s, "TaskRun", "ship-9-deploy", "apps")
        other = {**tr, "metadata": {**tr["metadata"], "name": "ship-9-notify", "uid": "7a1e2b3c-4d5e-4f60-8a7b-9c0d1e2f3a49",
                                    "labels": {**tr["metadata"]["labels"], "tekton.dev/task": "notify",
                                               "tekton.dev/pipelineTask": "notify"}},
                 "status": {k: v for k, v in tr["status"].items() if k != "taskSpec"}}
        s["items"].append(other)
    r = run_plugin(["ship-9", "-n", "apps"], setup)
    p = expect(r, 1, [WHOAMI, get_tr("ship-9", "apps"), list_tr_of("ship-9", "apps")],
               err_has=["PipelineRun ship-9 has 2 approvals waiting: ship-9-deploy, ship-9-notify (not resolved yet); "
                        "name the TaskRun, e.g. kubectl approve ship-9-deploy"]) + no_writes(r)
    # list names only what it can tell: the notify Task is no approve-step candidate
    r = run_plugin(["list", "-n", "apps"], setup)
    if "ship-9-notify" in r.out:
        p.append(f"list guesses ship-9-notify is a gate: {r.out!r}")
    r = run_plugin(["ship-9-deploy", "-n", "apps"], setup)
    p += expect(r, 0, out_has=[f"wrote {SHIP_KEY}.alice_40example.com to ConfigMap apps/ship-votes"])
    return p


@CASES.add("attack: a TaskRun of the approve-step Task whose resolved spec runs no /approve-step is not voted on")
def no_approve_step_step_refused():
    def setup(s):
        for st in find(s, "TaskRun", "release-42-approval")["status"]["taskSpec"]["steps"]:
            st["command"] = ["/bin/sh", "-c", "sleep 1d"]
    r = run_plugin(["release-42-approval"], setup)
    p = expect(r, 1, err_has=["TaskRun ci/release-42-approval has no approve-step step (none in its status.taskSpec "
                              "has the command /approve-step): nothing in it waits for a vote"]) + no_writes(r)
    r = run_plugin(["release-42"], setup)
    p += expect(r, 1, err_has=["PipelineRun release-42 has no approval waiting"]) + no_writes(r)
    r = run_plugin(["list"], setup)
    if "release-42-approval" in r.out:
        p.append(f"list shows it: {r.out!r}")
    return p


@CASES.add("the step's options as approve-step reads them: --NAME=VALUE, the last one given wins")
def step_options_as_getopt():
    def setup(s):
        st = find(s, "TaskRun", "ship-9-deploy", "apps")["status"]["taskSpec"]["steps"][1]
        st["args"] += ["--approvers=carol@example.com", "--configmap", "ship-votes-2"]
        s["items"].append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
            "name": "ship-votes-2", "namespace": "apps", "labels": {"approve-step/gate": "true"}}, "data": {}})
    r = run_plugin(["ship-9", "-n", "apps"], lambda s: (setup(s), s.update(user="carol@example.com")))
    return expect(r, 0, out_has=[f"wrote {SHIP_KEY}.carol_40example.com to ConfigMap apps/ship-votes-2"])


@CASES.add("attack: an --approvers arg naming a param nobody set: refused, not read as no approvers")
def unresolved_approvers_refused():
    def setup(s):
        st = find(s, "TaskRun", "ship-9-deploy", "apps")["status"]["taskSpec"]["steps"][1]
        i = st["args"].index("--approvers")
        st["args"][i + 1] = "$(params.approvers)"
    r = run_plugin(["ship-9", "-n", "apps"], setup)
    return expect(r, 1, err_has=["cannot resolve the --approvers '$(params.approvers)' of TaskRun apps/ship-9-deploy: "
                                 "cannot tell whose votes count"]) + no_writes(r)
