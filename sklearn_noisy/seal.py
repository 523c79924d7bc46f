"""SEAL: self-evolution average label (Chen et al., AAAI 2021, Algorithm 2).

Iteration 0 trains a network on the given labels. During every iteration the
network's eval-mode softmax on the whole training set is recorded after each
epoch and averaged over the iteration's epochs; the next iteration trains a
network on these averaged soft labels. Early epochs, before the network
memorises the wrong labels, pull the averages of mislabelled samples towards
their true class, and every iteration sharpens that signal.
"""

import numbers
import os
import dataclasses
import time
import warnings

import numpy as np
import torch
from sklearn.utils._param_validation import Interval, StrOptions

from ._checkpoint import (
    check_directory,
    fit_fingerprint,
    load_checkpoint,
    save_checkpoint,
    unusable_checkpoint,
)
from ._core import NoisyLabelClassifier
from ._distributed import barrier, current_world, unwrapped
from ._docstrings import fill_docstring
from ._random import FitRandomness
from ._recording import EpochSoftmaxAverage
from .losses import DMILoss

# Parameters that do not change what a fit computes; a checkpoint written
# under other values of these still applies. n_iterations is among them so
# that a finished fit can be extended by more iterations, device so that a
# fit can resume on another machine. Every other parameter, including ones
# added later, is fingerprinted.
# What does not change the result: where it is written, how long it runs, what
# it prints, and the engine (device, an accelerate Accelerator).
_NOT_IN_FINGERPRINT = ("checkpoint_dir", "n_iterations", "verbose", "device", "accelerator")


@fill_docstring(
    max_epochs_meaning="Epochs of every iteration (of every training stage).")
class SEALClassifier(NoisyLabelClassifier):
    """Self-evolution average label (SEAL) training.

    Parameters
    ----------
    n_iterations : int, default=10
        Self-evolution iterations after the initial training on the given
        labels, so ``n_iterations + 1`` networks are trained. The paper uses
        10 on MNIST and 3 on CIFAR-10; the default was chosen by measurement
        (see the user guide). ``0`` is plain
        cross-entropy training that still reports averaged soft labels.
    first_loss : {{'cross_entropy', 'dmi'}}, default='cross_entropy'
        Loss of iteration 0. ``'dmi'`` is the paper's "SEAL (DMI)": following
        Xu et al. (2019), the network is first trained with cross-entropy and
        then trained for another ``max_epochs`` with
        :func:`~sklearn_noisy.losses.dmi_loss`, whose epochs are averaged.
    reinitialize : bool, default=True
        Start every iteration from a freshly initialised network (the paper's
        MNIST and CIFAR setting). ``False`` continues training the previous
        iteration's network on the new soft labels, with a fresh optimizer
        (the paper's Clothing1M setting, for a pre-trained ``module``).
        Either way every iteration gets a fresh optimizer and restarts any
        learning-rate schedule, as the paper restarts training.
    checkpoint_dir : str, path or None, default=None
        When given, the state after every finished iteration is saved there,
        in one file per data set and parameter setting, and a later fit of
        the same data and parameters resumes after the last finished
        iteration, with the result of an uninterrupted fit. Every parameter
        counts except ``checkpoint_dir``, ``n_iterations``, ``verbose`` and
        ``device`` (so raising ``n_iterations`` extends a finished fit): a
        class or function by its qualified name, a ``module`` instance by
        its architecture and weights, ``callbacks`` by their types and
        parameters. A parameter that cannot be identified so (a lambda; an
        object with neither ``get_params`` nor attributes, whose repr holds a
        memory address) raises a ``ValueError``.
        Needs an int ``random_state``: every fit with ``None`` or a
        ``RandomState`` instance is a new random draw, so it neither resumes
        nor saves, and warns that ``checkpoint_dir`` is ignored. The
        directory is created and checked for writing before training. A
        checkpoint file that is damaged, or was not written by this
        estimator, raises a ``ValueError`` naming it; delete the file to
        start afresh. Files are loaded with ``torch.load(weights_only=True)``,
        so they cannot run code.
    {shared_parameters}

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Labels seen at fit.
    module_ : torch.nn.Module
        The network of the last iteration, used for prediction.
    soft_labels_ : ndarray of shape (n_train_samples, n_classes)
        The averaged soft labels of the last iteration.
    noise_scores_ : ndarray of shape (n_train_samples,)
        Eq. 10 of the paper: the largest averaged soft label among the
        classes other than the given one. Higher means the given label is
        more likely wrong.
    corrected_labels_ : ndarray of shape (n_train_samples,)
        The class of largest averaged soft label.
    {label_issues}
    iteration_history_ : list of dict
        One entry per iteration: ``iteration``, ``loss`` (the training loss
        used), ``train_loss`` (per epoch), ``seconds`` and ``agreement`` (the
        fraction of samples whose soft label's arg max is the given label).
    history_ : skorch History
        Per-epoch record of the last iteration.
    stage_histories_ : list of (str, skorch History)
        The history of every training stage this call of ``fit`` ran, in
        order (a resumed fit starts after the checkpointed iterations).

    Notes
    -----
    Training stages: one per iteration, ``"iteration 0"`` to
    ``"iteration {{n_iterations}}"``, each training ``module_`` for
    ``max_epochs``; with ``first_loss='dmi'`` iteration 0 has a second stage,
    ``"iteration 0 (dmi)"``. User callbacks are initialised at the start of
    every stage, so a ``LRScheduler`` restarts its schedule in each
    iteration and ``EarlyStopping`` ends the current iteration early.

    References
    ----------
    P. Chen, J. Ye, G. Chen, J. Zhao, P.-A. Heng. "Beyond Class-Conditional
    Assumption: A Primary Attempt to Combat Instance-Dependent Label Noise."
    AAAI 2021.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn_noisy import SEALClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = SEALClassifier(n_iterations=2, max_epochs=5, random_state=0)
    >>> clf = clf.fit(X / 16, y)
    >>> clf.soft_labels_.shape
    (1797, 10)
    >>> len(clf.iteration_history_)
    3
    """

    _parameter_constraints = {
        **NoisyLabelClassifier._parameter_constraints,
        "n_iterations": [Interval(numbers.Integral, 0, None, closed="left")],
        "first_loss": [StrOptions({"cross_entropy", "dmi"})],
        "reinitialize": ["boolean"],
        "checkpoint_dir": [None, str, os.PathLike],
    }

    def __init__(
        self,
        module=None,
        *,
        n_iterations=10,
        first_loss="cross_entropy",
        reinitialize=True,
        checkpoint_dir=None,
        max_epochs=50,
        batch_size=64,
        lr=1e-3,
        optimizer=torch.optim.Adam,
        train_split=None,
        device="cpu",
        callbacks=None,
        augmentation=None,
        precision="float32",
        channels_last="auto",
        compile=False,
        verbose=0,
        random_state=None,
        **kwargs,
    ):
        super().__init__(
            module,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            optimizer=optimizer,
            train_split=train_split,
            device=device,
            callbacks=callbacks,
            augmentation=augmentation,
            precision=precision,
            channels_last=channels_last,
            compile=compile,
            verbose=verbose,
            random_state=random_state,
            **kwargs,
        )
        self.n_iterations = n_iterations
        self.first_loss = first_loss
        self.reinitialize = reinitialize
        self.checkpoint_dir = checkpoint_dir

    def _fit_noisy(self, data):
        given = data.y
        checkpoint_path = self._checkpoint_path(data.X, given)
        state = self._load_state(checkpoint_path)
        if state is not None and len(state["history"]) > self.n_iterations + 1:
            # A longer fit was checkpointed: its intermediate soft labels are
            # gone, so train this shorter one afresh and keep that file.
            state, checkpoint_path = None, None
        if state is None:
            state = {"seed": data.randomness.seed, "soft_labels": None, "history": []}
        else:
            # Resuming: the stages' seeds come from the checkpointed fit.
            data = dataclasses.replace(
                data, randomness=FitRandomness(state["seed"], data.randomness.device))
        soft_labels, history = state["soft_labels"], state["history"]
        if history:
            # The saved network is the one to continue from (when not
            # reinitialising) or the final one (when nothing is left).
            self._initialize_networks()
            try:
                unwrapped(self.module_).load_state_dict(state["module"])
            except RuntimeError as exc:
                raise unusable_checkpoint(
                    checkpoint_path, "its weights do not fit the network built "
                    "for this fit (was the module's code changed?)") from exc
        for iteration in range(len(history), self.n_iterations + 1):
            start, first_stage = time.perf_counter(), len(data.stages)
            recorder = EpochSoftmaxAverage()
            callbacks = [("soft_label_average", recorder)]
            if iteration == 0:
                loss_name = self.first_loss
                self._first_iteration(data, callbacks)
            else:
                loss_name = "soft_cross_entropy"
                self.run_stage(
                    data, f"iteration {iteration}", fields={"targets": soft_labels},
                    callbacks=callbacks, fresh_network=self.reinitialize)
            soft_labels = recorder.average_
            history.append({
                "iteration": iteration,
                "loss": loss_name,
                # (an epoch that Ctrl-C cut short has no loss)
                "train_loss": [float(row["train_loss"])
                               for _, stage_history in data.stages[first_stage:]
                               for row in stage_history if "train_loss" in row],
                "seconds": time.perf_counter() - start,
                "agreement": float((soft_labels.argmax(dim=1) == given).float().mean()),
            })
            # An iteration that Ctrl-C cut short is not finished, nor is any
            # iteration trained from its soft labels: none is written.
            if checkpoint_path is not None and not data.interrupted:
                self._save_iteration(checkpoint_path, {
                    "seed": state["seed"],
                    "soft_labels": soft_labels.cpu(),
                    "history": history,
                    "module": {k: v.cpu()
                               for k, v in unwrapped(self.module_).state_dict().items()},
                })
        self.soft_labels_ = soft_labels.double().cpu().numpy()
        self.iteration_history_ = history
        others = soft_labels.scatter(1, given[:, None], -1.0)
        self._set_noise_attributes(
            others.max(dim=1).values, soft_labels.argmax(dim=1), given)

    def held_out_noise_scores(self, X, y):
        """Eq. 10 on samples the fit did not see (used by find_label_issues).

        Such a sample has no soft label averaged over epochs, so the largest
        probability of ``module_`` among the classes other than the given
        label ``y`` stands in for it.
        """
        proba = self.predict_proba(X)
        proba[np.arange(len(proba)), self.label_encoder_.transform(y)] = -1.0
        return proba.max(axis=1)

    def _first_iteration(self, data, callbacks):
        if self.first_loss == "cross_entropy":
            self.run_stage(data, "iteration 0", callbacks=callbacks,
                            seed_key="training")
            return
        # Xu et al. start L_DMI from a network trained with cross-entropy;
        # only the L_DMI stage's epochs are averaged.
        self.run_stage(data, "iteration 0", seed_key="training")
        self.run_stage(data, "iteration 0 (dmi)", callbacks=callbacks,
                        fresh_network=False, criterion=DMILoss())

    @staticmethod
    def _save_iteration(path, state):
        # One file for all the processes of a parallel fit, which hold the
        # same state; none reads on before it is written.
        world = current_world()
        if world.leads:
            save_checkpoint(path, state)
        if world.parallel:
            barrier()

    def _checkpoint_path(self, X, y):
        if self.checkpoint_dir is None:
            return None
        if not isinstance(self.random_state, numbers.Integral):
            # An unseeded fit is a new draw each time: resuming one would hand
            # back an earlier fit's model.
            warnings.warn(
                "checkpoint_dir is ignored because random_state is not an int: "
                "every fit with random_state=None or a RandomState instance is a "
                "new random draw, so it neither resumes from a checkpoint nor "
                "writes one. Pass an int random_state to use checkpoints.",
                UserWarning, stacklevel=2)
            return None
        params = {
            name: value for name, value in self.get_params(deep=False).items()
            if name not in _NOT_IN_FINGERPRINT
        }
        fingerprint = fit_fingerprint(X, y, params)
        return check_directory(self.checkpoint_dir) / f"seal-{fingerprint}.pt"

    def _load_state(self, checkpoint_path):
        if checkpoint_path is None:
            return None
        state = load_checkpoint(
            checkpoint_path, ("seed", "soft_labels", "history", "module"))
        if state is not None:
            state["soft_labels"] = state["soft_labels"].to(self._device())
        return state

