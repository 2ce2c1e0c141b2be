"""Parameter tuning: Bayesian optimization (optuna TPE) of a strategy's declared parameters.

``space`` (what may vary), ``objective`` (what is maximized), ``folds`` (in-sample windows to
fit on, out-of-sample windows to check on), ``storage`` (studies in SQLite or PostgreSQL),
``worker`` (trials in one process), ``runner`` (the whole run, workers in parallel processes),
``apply`` (TOML snippet, ``/set`` commands) and ``report`` (table, JSON).
"""

from trading.optimize.apply import set_commands, toml_snippet
from trading.optimize.errors import (
    OptimizeError,
    OptimizeInputError,
    RiskSpaceError,
    SpaceError,
)
from trading.optimize.folds import Fold, make_folds
from trading.optimize.objective import BAD_SCORE, OBJECTIVES, Objective
from trading.optimize.runner import (
    FoldResult,
    OptimizeResult,
    OptimizeSettings,
    optimize,
    study_names,
)
from trading.optimize.space import (
    SearchSpace,
    build_space,
    parse_assignments,
    split_assignments,
)

__all__ = [
    "BAD_SCORE",
    "OBJECTIVES",
    "Fold",
    "FoldResult",
    "Objective",
    "OptimizeError",
    "OptimizeInputError",
    "OptimizeResult",
    "OptimizeSettings",
    "RiskSpaceError",
    "SearchSpace",
    "SpaceError",
    "build_space",
    "make_folds",
    "optimize",
    "parse_assignments",
    "set_commands",
    "split_assignments",
    "study_names",
    "toml_snippet",
]
