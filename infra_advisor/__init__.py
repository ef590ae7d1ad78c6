"""infra-advisor: rank AI infrastructure stacks for a workload and explain their bottlenecks."""

__version__ = "0.1.0"
