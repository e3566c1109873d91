"""Replacement rules of the other packages the program uses: pulumi-docker (the local stack and
dev's image build), pulumi-random, the explicit providers and stack references.
"""

from __future__ import annotations

from dataops.replacements.model import Forces, Rules

# The Pulumi schema marks the inputs whose change replaces a bridged resource
# `willReplaceOnChanges` (the registry pages' "Changes to this property will trigger
# replacement"); these lists are the marked inputs of pulumi-docker's schema.
_DOCKER = "https://github.com/pulumi/pulumi-docker/blob/237b7899bb513613a7645e74d6981c12d054dcc7/provider"
DOCKER_SCHEMA = f"{_DOCKER}/cmd/pulumi-resource-docker/schema.json"
_CONTAINER = (
    "capabilities",
    "cgroupParent",
    "cgroupnsMode",
    "command",
    "cpus",
    "deviceRequests",
    "devices",
    "dns",
    "dnsOpts",
    "dnsSearches",
    "domainname",
    "entrypoints",
    "envs",
    "gpus",
    "groupAdds",
    "hostname",
    "hosts",
    "image",
    "ipcMode",
    "labels",
    "logDriver",
    "logOpts",
    "mounts",
    "name",
    "networkMode",
    "networksAdvanced",
    "pidMode",
    "platform",
    "ports",
    "privileged",
    "publishAllPorts",
    "readOnly",
    "runtime",
    "securityOpts",
    "shmSize",
    "stdinOpen",
    "stopSignal",
    "stopTimeout",
    "storageOpts",
    "sysctls",
    "tty",
    "ulimits",
    "uploads",
    "user",
    "usernsMode",
    "volumes",
    "workingDir",
)
_NETWORK = "attachable driver ingress internal ipamConfigs ipamDriver ipamOptions ipv6 labels name options"

RANDOM_SOURCE = (
    "https://github.com/hashicorp/terraform-provider-random/blob/0117aa60f8ebe02fd51910d8e6883123dadb3cb2"
    "/internal/provider/resource_password.go"
)
_PULUMI = "https://github.com/pulumi/pulumi/blob/1b5949891b3cefcb9974752b24a5ecef0acc86c8"
_PK = "https://github.com/pulumi/pulumi-kubernetes/blob/94977969d64112b04e19945818a7d5d5f38f631d/provider/pkg/provider"

TABLE: dict[str, Rules] = {
    "docker:index/container:Container": Rules(DOCKER_SCHEMA, (Forces(_CONTAINER, DOCKER_SCHEMA),)),
    "docker:index/network:Network": Rules(DOCKER_SCHEMA, (Forces(tuple(_NETWORK.split()), DOCKER_SCHEMA),)),
    "docker:index/remoteImage:RemoteImage": Rules(
        DOCKER_SCHEMA, (Forces(("name", "platform", "pullTriggers", "triggers"), DOCKER_SCHEMA),)
    ),
    "docker:index/volume:Volume": Rules(
        DOCKER_SCHEMA, (Forces(("driver", "driverOpts", "labels", "name"), DOCKER_SCHEMA),)
    ),
    # Native to pulumi-docker: its Diff reports every change as an update (a new build and push;
    # a new registry user name or password alone is no change).
    "docker:index/image:Image": Rules(f"{_DOCKER}/provider.go", note="never replaced: a change rebuilds"),
    # passwordSchemaV3: every attribute that shapes the result has a RequiresReplace plan
    # modifier (keepers: when its values are not null).
    "random:index/randomPassword:RandomPassword": Rules(
        RANDOM_SOURCE,
        (
            Forces(
                (
                    "keepers",
                    "length",
                    "lower",
                    "minLower",
                    "minNumeric",
                    "minSpecial",
                    "minUpper",
                    "number",
                    "numeric",
                    "overrideSpecial",
                    "special",
                    "upper",
                ),
                RANDOM_SOURCE,
            ),
        ),
        note="a new password: whatever used the old one must be given the new one",
    ),
    # DiffConfig replaces the provider, and with it every object it manages, when the active
    # cluster of its kubeconfig changes (or clusterIdentifier, or renderYamlToDirectory). The
    # kubeconfig is a secret: offline both sides read "[secret]", so a change is not seen.
    "pulumi:providers:kubernetes": Rules(
        f"{_PK}/provider.go",
        (
            Forces(
                ("kubeconfig", "context", "cluster", "clusterIdentifier", "renderYamlToDirectory"),
                f"{_PK}/provider.go",
            ),
        ),
        note="replacing it replaces every object it manages",
    ),
    # pulumi-aws 7 dropped the replacement of every resource on a new provider region
    # (pulumi/pulumi-aws#5656): moving a stack to another region is a destroy and an up.
    "pulumi:providers:aws": Rules(
        "https://github.com/pulumi/pulumi-aws/pull/5656", note="a region change replaces nothing"
    ),
    # A read, not a managed resource: another name reads another stack's outputs.
    "pulumi:pulumi:StackReference": Rules(
        f"{_PULUMI}/sdk/python/lib/pulumi/stack_reference.py", note="read only: nothing to replace"
    ),
}

# A component resource has no provider: the step generator's diff reports a changed input as
# "diffs exist", an update, never a replacement. Its children carry every change to the cloud.
COMPONENT = Rules(f"{_PULUMI}/pkg/resource/deploy/step_generator.go", note="a component: nothing to replace")
