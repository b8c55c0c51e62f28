"""REDCap's ``filterLogic``: the branching-logic syntax, read by the same parser and
evaluator as the forms, over a record's answers (a checkbox as its set of ticked codes)."""

from collections.abc import Collection, Mapping

from cohort.errors import CohortError
from forms import branching
from forms.branching import Answer, BranchingError, Expr

NOT_VALID = "The filterLogic is not valid: {problem}"
UNKNOWN = "The filterLogic names fields that are not in the project: {names}"


def parse(text: str, known: Collection[str]) -> Expr | None:
    """The filter's expression (None when blank), refused if it does not parse or reads a
    field the project does not have."""
    if not text.strip():
        return None
    try:
        expr = branching.parse(text)
    except BranchingError as exc:
        raise CohortError(NOT_VALID.format(problem=exc.message), field="filterLogic") from None
    unknown = [name for name in branching.field_names(expr) if name not in known]
    if unknown:
        raise CohortError(UNKNOWN.format(names=", ".join(unknown)), field="filterLogic")
    return expr


def keeps(expr: Expr | None, answers: Mapping[str, Answer]) -> bool:
    return expr is None or branching.evaluate(expr, answers)
