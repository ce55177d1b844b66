"""Exchange with the tools the field uses: explanations read from other formats (JSONL, CSV,
Neuronpedia exports, SAEBench autointerp results, delphi folders) and results written in
Neuronpedia's and SAEBench's layouts."""

from sae_interp.interop.explanations import (
    EXPLANATION_FORMATS,
    GivenExplanation,
    GivenExplanations,
    explanations_digest,
    read_explanations,
)

__all__ = [
    "EXPLANATION_FORMATS",
    "GivenExplanation",
    "GivenExplanations",
    "explanations_digest",
    "read_explanations",
]
