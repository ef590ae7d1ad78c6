"""Pure cost models: (job shape, layout, hardware numbers) -> StepCost.  No flags, no prose."""
