"""The papers' variants of Flywheel, ConfusionEM and SLN against the package's
earlier behaviour, on digits-IDN at 40% noise.

Protocol (as in ``bench_seal_sln.py``): X = digits / 16, stratified 70/30
split with ``random_state=seed``, ``IDNLabelCorruptor(noise_rate=0.4,
random_state=seed)`` on the training part, the estimator's defaults with
``random_state=seed`` except for the named change, accuracy on the clean test
part, mean ± standard deviation over the seeds; AUC is that of
``noise_scores_`` against the corruptor's ``noise_mask_``.

Each "earlier" row is what the package did before the variant became an
option or the default. Where no parameter reproduces it, the row patches the
one function that changed, for that fit only (see the classes below).

Parts (``--part``): ``flywheel``, ``confusion-em``, ``sln``.

Run: ``OMP_NUM_THREADS=1 python benchmarks/bench_variants.py --part all``
(about 13 minutes of CPU time on the 2-core development machine, seven of them
for the Flywheel part).
"""

from unittest import mock

from bench_seal_sln import compare_on_digits, run_parts
from sklearn_noisy import ConfusionEMClassifier, FlywheelClassifier, SLNClassifier
from sklearn_noisy.base import base_and_indices
from sklearn_noisy.flywheel import EMCycles

RATES = (0.4,)


class _TransitionFromUpdatedF(EMCycles):
    """The earlier Eq. 14: T_c from f after its update of the epoch (f^(t))
    on the unaugmented data, instead of the f^(t-1) of the epoch's targets."""

    def on_epoch_end(self, net, dataset_train=None, **kwargs):
        if self._cycling(len(net.history_)):
            data, _ = base_and_indices(dataset_train)
            self.f_previous_ = net.eval_proba(data.X_tensor)
        super().on_epoch_end(net, dataset_train=dataset_train, **kwargs)


class FlywheelTransitionFromUpdatedF(FlywheelClassifier):
    """FlywheelClassifier with T_c computed from f after its update."""

    def _fit_noisy(self, data):
        with mock.patch("sklearn_noisy.flywheel.EMCycles", _TransitionFromUpdatedF):
            super()._fit_noisy(data)


class SLNFixedDecay(SLNClassifier):
    """SLNClassifier whose momentum model uses ``ema_decay`` from the first
    update on, without the warm-up."""

    def _fit_noisy(self, data):
        with mock.patch("sklearn_noisy.sln.warmed_up_decay", lambda decay, n_updates: decay):
            super()._fit_noisy(data)


def rows(estimator_class, variants):
    """``label -> maker(seed)`` for ``(label, class or None, params)`` rows."""
    return {
        label: (lambda seed, cls=cls or estimator_class, params=params:
                cls(random_state=seed, **params))
        for label, cls, params in variants
    }


def part_flywheel(seeds):
    print("== FlywheelClassifier, digits-IDN 40% ==")
    paper = {"transition_diagonal": True}
    compare_on_digits(seeds, rows(FlywheelClassifier, [
        ("defaults (T_c diagonal zeroed)", None, {}),
        ("earlier", FlywheelTransitionFromUpdatedF, {"main_augmentation": "weak"}),
        ("paper (diagonal counted)", None, paper),
        ("paper, T_c from updated f", FlywheelTransitionFromUpdatedF, paper),
        ("paper, g on weak augmentation", None, {**paper, "main_augmentation": "weak"}),
    ]), rates=RATES)


def part_confusion_em(seeds):
    print("== ConfusionEMClassifier, digits-IDN 40% ==")
    compare_on_digits(seeds, rows(ConfusionEMClassifier, [
        ("eta per batch (default)", None, {}),
        ("eta per epoch, every 5 (earlier)", None, {"eta_update": "epoch"}),
        ("eta per batch, eta_lr=0.1", None, {"eta_lr": 0.1}),
        ("eta per batch, eta_lr=0.05", None, {"eta_lr": 0.05}),
    ]), rates=RATES)


def part_sln(seeds):
    print("== SLNClassifier, digits-IDN 40% ==")
    compare_on_digits(seeds, rows(SLNClassifier, [
        ("EMA warm-up (default)", None, {}),
        ("fixed EMA decay (earlier)", SLNFixedDecay, {}),
        ("EMA warm-up, 10 epochs", None, {"max_epochs": 10}),
        ("fixed EMA decay, 10 epochs", SLNFixedDecay, {"max_epochs": 10}),
        ("LC from 50, hard (default)", None, {"correction_epoch": 50}),
        ("LC from 50, soft", None, {"correction_epoch": 50, "correction": "soft"}),
    ]), rates=RATES)


PARTS = {"flywheel": part_flywheel, "confusion-em": part_confusion_em, "sln": part_sln}


def main():
    run_parts(__doc__.splitlines()[0], PARTS)


if __name__ == "__main__":
    main()
