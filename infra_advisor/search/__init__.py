"""Search: rank stacks by objectives, mark the Pareto front, name the bottleneck, find the relief."""
