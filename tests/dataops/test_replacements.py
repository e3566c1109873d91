"""dataops.replacements and the actions `diff` derives from it: a change to an input the provider
cannot update in place is a `replace` naming that input; any other change is an `update`.

Each case edits one input of a shipped stack's plan and diffs the plan against the edited copy,
as a pull request that made that edit would be diffed against its base.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable

from dataops import replacements
from dataops.diff import ResourceDiff, diff
from dataops.plan_types import Plan, PlannedResource
from dataops.replacements import Sides, kubernetes


def edited(plan: Plan, name: str, edit: Callable[[PlannedResource], object]) -> ResourceDiff:
    """The diff entry of resource `name` after `edit` changed it in a copy of `plan`."""
    after = copy.deepcopy(plan)
    edit(after.named(name))
    found = [r for r in diff(plan, after).resources if r.name == name]
    assert len(found) == 1, f"{name}: expected one differing resource, got {found}"
    return found[0]


def test_node_group_instance_types_replace_it_and_its_sizes_update_it(plans):
    dev = plans["dev"]
    r = edited(dev, "cluster-system-nodes", lambda n: n.inputs.update(instanceTypes=["m6i.large"]))
    assert (r.action, r.forced_by) == ("replace", ["instanceTypes"])
    assert "pods" in r.at_risk  # a node group's replacement evicts its pods
    r = edited(dev, "cluster-system-nodes", lambda n: n.inputs["scalingConfig"].update(maxSize=9))
    assert (r.action, r.forced_by, r.at_risk) == ("update", [], "")


def test_desired_size_is_left_to_the_autoscaler_unless_the_program_stops_ignoring_it(plans):
    dev = plans["dev"]
    assert dev.named("cluster-system-nodes").ignoreChanges == ["scalingConfig.desiredSize"]
    r = edited(dev, "cluster-system-nodes", lambda n: n.inputs["scalingConfig"].update(desiredSize=2))
    assert r.action == "ignored" and r.changes[0].effect == "ignored"

    def not_ignored(n: PlannedResource) -> None:
        n.inputs["scalingConfig"]["desiredSize"] = 2
        n.ignoreChanges = []

    r = edited(dev, "cluster-system-nodes", not_ignored)
    assert (r.action, r.forced_by) == ("update", [])


def test_bucket_name_replaces_it_and_its_tags_update_it(plans):
    dev = plans["dev"]
    r = edited(dev, "access-workspace-bucket", lambda b: b.inputs.update(bucket="another-name"))
    assert (r.action, r.forced_by) == ("replace", ["bucket"])
    assert r.at_risk == replacements.AT_RISK["aws:s3/bucket:Bucket"]
    r = edited(dev, "access-workspace-bucket", lambda b: b.inputs["tags"].update(team="platform"))
    assert (r.action, r.at_risk) == ("update", "")


def test_eks_cluster_role_replaces_it_while_subnets_and_logging_update_it(plans):
    # New subnets are an in-place UpdateClusterConfig in the provider version the table was read
    # at (aws.py says where); the role is ForceNew.
    dev = plans["dev"]
    r = edited(dev, "cluster-eks", lambda c: c.inputs.update(roleArn="arn:aws:iam::111122223333:role/other"))
    assert (r.action, r.forced_by) == ("replace", ["roleArn"])
    r = edited(dev, "cluster-eks", lambda c: c.inputs["vpcConfig"].update(subnetIds=["subnet-0"]))
    assert (r.action, r.forced_by) == ("update", [])
    r = edited(dev, "cluster-eks", lambda c: c.inputs.update(enabledClusterLogTypes=["api"]))
    assert (r.action, r.forced_by) == ("update", [])


def test_eks_cluster_encryption_replaces_it_only_when_removed(plans):
    dev = plans["dev"]
    r = edited(dev, "cluster-eks", lambda c: c.inputs.pop("encryptionConfig"))
    assert r.action == "replace"
    assert r.forced_by == ["encryptionConfig.provider.keyArn", "encryptionConfig.resources"]
    assert "removed" in r.changes[0].why

    def other_key(c: PlannedResource) -> None:
        c.inputs["encryptionConfig"]["provider"]["keyArn"] = "arn:aws:kms:eu-west-1:111122223333:key/other"

    r = edited(dev, "cluster-eks", other_key)
    assert (r.action, r.forced_by) == ("update", [])


def test_storage_class_parameters_replace_it_and_labels_update_it(plans):
    dev = plans["dev"]
    r = edited(dev, "cluster-storage-class", lambda s: s.inputs["parameters"].update(type="io2"))
    assert (r.action, r.forced_by) == ("replace", ["parameters.type"])

    def labelled(s: PlannedResource) -> None:
        s.inputs["metadata"].setdefault("labels", {})["team"] = "platform"

    r = edited(dev, "cluster-storage-class", labelled)
    assert (r.action, r.forced_by) == ("update", [])
    # The API server refuses a new reclaim policy, which pulumi-kubernetes would send as a patch.
    r = edited(dev, "cluster-storage-class", lambda s: s.inputs.update(reclaimPolicy="Retain"))
    assert r.action == "update" and r.changes[0].effect == "refused" and r.refused == ["reclaimPolicy"]


def test_the_replace_on_changes_option_replaces_whatever_the_provider_says(plans):
    def replace_on_tags(b: PlannedResource) -> None:
        b.inputs["tags"]["team"] = "platform"
        b.replaceOnChanges = ["tags"]

    r = edited(plans["dev"], "access-workspace-bucket", replace_on_tags)
    assert (r.action, r.forced_by) == ("replace", ["tags.team"]) and r.changes[0].why == "replaceOnChanges"


def test_a_secrets_data_replaces_it_unless_the_provider_allows_mutable_secrets():
    rules = replacements.TABLE["kubernetes:core/v1:Secret"]
    default = Sides({"stringData": {"a": "1"}}, {"stringData": {"a": "2"}})
    mutable = Sides(default.a, default.b, {"enableSecretMutable": "true"})
    immutable_secret = Sides(default.a, {**default.b, "immutable": True}, mutable.provider)
    assert replacements.forcing(rules, "stringData.a", default) is not None
    assert replacements.forcing(rules, "stringData.a", mutable) is None
    assert replacements.forcing(rules, "stringData.a", immutable_secret) is not None
    assert replacements.forcing(rules, "type", mutable) is not None


def test_every_type_the_program_declares_has_rules(plans, everything, sandbox_plan):
    """Fails when the program starts declaring a type dataops/replacements does not know: add
    its entry, with the source of its force-new inputs."""
    declared = {(r.type, r.custom) for p in [*plans.values(), everything, sandbox_plan] for r in p.resources}
    missing = sorted(t for t, custom in declared if replacements.rules_for(t, custom) is None)
    assert missing == [], f"no replacement rules for {missing}; add them to dataops/replacements"


def test_a_type_without_rules_is_flagged_not_guessed(plans):
    after = copy.deepcopy(plans["dev"])
    bucket = after.named("access-workspace-bucket")
    bucket.type = "aws:s3/directoryBucket:DirectoryBucket"
    before = copy.deepcopy(after)
    bucket.inputs["bucket"] = "another-name"
    (r,) = [r for r in diff(before, after).resources if r.name == "access-workspace-bucket"]
    assert r.unknown_type and r.action == "update"


PINNED = re.compile(r"^https://github\.com/[\w.-]+/[\w.-]+/(blob/[0-9a-f]{40}/|pull/\d+$)")


def test_every_rule_cites_a_pinned_source():
    for type_, rules in replacements.TABLE.items():
        sources = [rules.source, *(f.source for f in (*rules.forces, *rules.refused))]
        for source in sources:
            assert PINNED.match(source), f"{type_}: {source} is not a link at a commit"
        for f in (*rules.forces, *rules.refused):
            assert f.inputs, type_
            assert (f.when is None) == (f.condition == ""), f"{type_}: a condition needs its words"


def test_kubernetes_identity_replaces_every_kind():
    for type_, rules in kubernetes.TABLE.items():
        if type_.startswith("kubernetes:helm.sh/"):
            continue
        assert replacements.forcing(rules, "metadata.name", Sides({}, {})) is not None, type_


def test_ignore_changes_paths_name_an_input_its_objects_or_any_list_index(plans):
    def ignored_with(path: str) -> Callable[[PlannedResource], None]:
        def edit(n: PlannedResource) -> None:
            n.inputs["instanceTypes"] = ["m6i.large"]
            n.ignoreChanges = [path]

        return edit

    dev = plans["dev"]
    assert edited(dev, "cluster-system-nodes", ignored_with("instanceTypes")).action == "ignored"
    # A list of plain values is compared whole: one element named is not the list.
    assert edited(dev, "cluster-system-nodes", ignored_with("instanceTypes[0]")).action == "replace"
    assert edited(dev, "cluster-system-nodes", ignored_with("instanceType")).action == "replace"

    def lifecycle(option: str) -> Callable[[PlannedResource], None]:
        def edit(n: PlannedResource) -> None:
            n.inputs["rules"][0]["expiration"]["days"] = 7
            n.ignoreChanges = [option]

        return edit

    for option in ("rules", "rules[0]", "rules[*].expiration", "rules[0].expiration.days"):
        assert edited(dev, "access-workspace-lifecycle", lifecycle(option)).action == "ignored", option
    for option in ("rules[1]", "rules[*].filter", "rules[0].expiration.day"):
        assert edited(dev, "access-workspace-lifecycle", lifecycle(option)).action == "update", option
