"""How windows, activations and explanations are shown as text: highlighting, normalised
activations, top firing tokens, and structured rule explanations (parsing, rendering,
rule-wise simulation). Shared by explainers and scorers; imports nothing of theirs."""
