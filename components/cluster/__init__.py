"""The stack's Kubernetes cluster, by concern.

Every mode is a `Cluster` (base.py): one Kubernetes provider that every Kubernetes resource of
the stack uses explicitly, how pods get AWS credentials, the encrypted StorageClass, and what
workloads wait for. `__main__.py` picks the mode:

- eks.py: the hardened EKS cluster the stack creates in a network it is given (components/network.py),
  with its add-ons: access.py (access entries, sandbox RBAC), node_pools.py, policy_engine.py
  (Calico), load_balancer_controller.py and autoscaler.py;
- existing.py: a cluster the organisation already runs, reached through a kubeconfig;
- host.py: sandboxes, on the cluster of their host stack, read through a stack reference.
"""
