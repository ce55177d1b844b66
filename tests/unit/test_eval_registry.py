"""One registry of evals: every list of evals is read from the eval definitions, so adding
an eval subpackage is the only step that makes it known to the command line, ``evals.all``,
schemas and ``compare``."""

from __future__ import annotations

import pytest

from sae_interp.base.errors import SpecError
from sae_interp.cli import main as cli_main
from sae_interp.evals import eval_names, explanation_evals, get_eval, whole_evals
from sae_interp.evals.all.eval_config import AllEvalConfig, scored_eval
from sae_interp.framework.runner import EVALS, EvalDefinition
from sae_interp.schemas import eval_schemas


def test_every_eval_subpackage_registers_its_one_definition() -> None:
    names = eval_names()
    assert "autointerp" in names and "common" not in names
    for name in names:
        definition = get_eval(name)
        assert isinstance(definition, EvalDefinition)
        assert definition.eval_type_id == name
    assert set(EVALS.names()) >= set(names)


def test_the_lists_of_evals_are_read_from_the_definitions() -> None:
    scored = {n for n in eval_names() if get_eval(n).scored is not None}
    whole = {n for n in eval_names() if get_eval(n).runs_whole_in_all}
    assert set(explanation_evals()) == scored
    assert set(whole_evals()) == whole
    assert scored and whole and not scored & whole
    assert "all" not in scored | whole and "core" not in scored | whole
    # the scored part is the one the definition runs: same config and output classes
    for name in scored:
        definition = get_eval(name)
        assert definition.scored.config_cls is definition.config_cls
        assert definition.scored.output_cls is definition.output_cls
    assert set(eval_schemas()) == set(eval_names())


def test_evals_all_accepts_exactly_the_derived_lists(capsys: pytest.CaptureFixture[str]) -> None:
    for name in [*explanation_evals(), *whole_evals()]:
        assert AllEvalConfig(evals=[name]).evals == [name]
    for name in ("core", "all", "nonsense"):
        with pytest.raises(ValueError, match=r"evals\.all cannot run"):
            scored_eval(name)
    with pytest.raises(SpecError, match="unknown eval 'nonsense'"):
        get_eval("nonsense")
    assert cli_main([]) == 2
    assert ", ".join(eval_names()) in capsys.readouterr().out
