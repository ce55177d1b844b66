"""``python -m sae_interp.export`` (or ``sae-interp export``): stored results in the formats
Neuronpedia and SAEBench read.

- ``--format neuronpedia``: each SAE's explanations as Neuronpedia explanation JSONL
  (``modelId``, ``layer``, ``index``, ``description``, ``typeName``,
  ``explanationModelName``), one file per (model, SAE).
- ``--format saebench``: results of the evals with a SAEBench counterpart (core,
  autointerp) as SAEBench result files, ``<eval>/<release>_<sae_id>_eval_results.json``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field

from sae_interp.base import FrozenModel
from sae_interp.framework.cli import command_main
from sae_interp.interop import neuronpedia, saebench
from sae_interp.interop.results import load_results

logger = logging.getLogger(__name__)


class ExportConfig(FrozenModel):
    """Write stored sae_interp results in the formats Neuronpedia and SAEBench read."""

    results: list[Path] = Field(
        min_length=1,
        description="Result JSON files or results folders (searched recursively), comma-separated.",
    )
    format: Literal["neuronpedia", "saebench"] = Field(
        description="'neuronpedia': explanation JSONL; 'saebench': SAEBench result files."
    )
    output_dir: Path = Field(default=Path("exports"), description="Where the files are written.")
    model_id: str | None = Field(
        default=None,
        description="Neuronpedia modelId (default: the model's name, e.g. 'gemma-3-270m').",
    )
    source_id: str | None = Field(
        default=None,
        description="Neuronpedia source id ('layer'), e.g. '6-res-topk' (default: from the hook, '6-res').",
    )
    type_name: str = Field(
        default="sae_interp_one_shot", description="Neuronpedia typeName of the explanations."
    )
    explanation_model_name: str | None = Field(
        default=None,
        description="Neuronpedia explanationModelName (default: the LLM model the eval used).",
    )
    sae_lens_release: str | None = Field(
        default=None,
        description="SAEBench sae_lens_release_id (default: the release of a 'saelens:' spec, else 'sae_interp').",
    )
    sae_lens_id: str | None = Field(
        default=None,
        description="SAEBench sae_lens_id (default: the id of a 'saelens:' spec, else the SAE spec).",
    )


def export(config: ExportConfig) -> list[Path]:
    """Write the files ``config`` asks for; returns their paths."""
    results = load_results(config.results)
    out = Path(config.output_dir) / config.format
    if config.format == "neuronpedia":
        written = neuronpedia.write_explanations(
            results,
            out,
            model_id=config.model_id,
            source_id=config.source_id,
            type_name=config.type_name,
            explanation_model_name=config.explanation_model_name,
        )
    else:
        written = saebench.write_results(
            results, out, release=config.sae_lens_release, sae_id=config.sae_lens_id
        )
    if not written:
        logger.warning(
            "nothing to export: no %s content in %d results", config.format, len(results)
        )
    return written


def main(argv: Sequence[str] | None = None, prog: str = "python -m sae_interp.export") -> int:
    return command_main(
        ExportConfig, argv, prog, lambda cfg: "".join(f"wrote: {p}\n" for p in export(cfg))
    )


if __name__ == "__main__":
    sys.exit(main())
