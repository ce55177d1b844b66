"""One prompt module per LLM state of the agent: its instructions, the user message built
from the evidence so far, and the parser/validator of its reply. Exact strings are tested."""
