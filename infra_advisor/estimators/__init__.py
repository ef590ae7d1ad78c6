"""Pure estimator functions: SI in, SI out, each citing its source (docs/methodology.md)."""
