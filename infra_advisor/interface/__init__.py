"""The interface: the command line, the guided Q&A, workload flags and files, and the renderers."""
