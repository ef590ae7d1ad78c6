"""The shipped catalog, installed as the package ``infra_advisor.data``."""
