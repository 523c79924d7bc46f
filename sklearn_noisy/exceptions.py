"""The exceptions the package raises besides scikit-learn's own."""


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite.

    The message names the estimator, the training stage and the epoch; a
    lower learning rate usually helps. The estimator is left as it was
    before ``fit``.
    """
