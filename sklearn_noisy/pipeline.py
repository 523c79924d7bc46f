"""imbalanced-learn's Pipeline, which says where a fitted step's attributes are.

A corruptor is a ``fit_resample`` step, so the package's pipelines are
imbalanced-learn's. The fitted attributes of the final estimator
(``noise_scores_``, ``corrected_labels_``, ...) belong to that step, not to
the pipeline; asking the pipeline for them says so.
"""

from imblearn import pipeline as imblearn_pipeline


class Pipeline(imblearn_pipeline.Pipeline):
    """:class:`imblearn.pipeline.Pipeline`, whose missing attributes name the step
    that has them.

    A scikit-learn pipeline whose ``fit_resample`` steps (the corruptors) run
    when the pipeline is fitted and are skipped by ``predict``, ``score`` and
    ``transform``. Asked for a fitted attribute of its last step
    (``pipe.noise_scores_``), it raises an ``AttributeError`` that says to
    use ``pipe[-1].noise_scores_``.

    Parameters
    ----------
    steps : list of (str, estimator) tuples
        As for :class:`imblearn.pipeline.Pipeline`.
    transform_input : list of str or None, default=None
    memory : str, object with the joblib.Memory interface or None, default=None
    verbose : bool, default=False
    """

    def __getattr__(self, name):
        # Only reached when the usual lookup fails.
        steps = self.__dict__.get("steps") or []
        if name.endswith("_") and not name.startswith("_") and steps and hasattr(
                steps[-1][1], name):
            raise AttributeError(
                f"'{type(self).__name__}' object has no attribute {name!r}; its last "
                f"step {steps[-1][0]!r} has: use pipeline[-1].{name} (after a grid "
                f"search, search.best_estimator_[-1].{name}).")
        raise AttributeError(f"'{type(self).__name__}' object has no attribute {name!r}")


def make_pipeline(*steps, memory=None, transform_input=None, verbose=False):
    """:func:`imblearn.pipeline.make_pipeline`, building a :class:`Pipeline`.

    Parameters
    ----------
    *steps : list of estimators
    memory : str, object with the joblib.Memory interface or None, default=None
    transform_input : list of str or None, default=None
    verbose : bool, default=False

    Returns
    -------
    pipeline : Pipeline
    """
    named = imblearn_pipeline.make_pipeline(*steps)
    return Pipeline(named.steps, memory=memory, transform_input=transform_input,
                    verbose=verbose)
