"""The estimators' input: X and y checked and turned into device tensors.

Arrays, DataFrames and tensors are validated with scikit-learn's
``validate_data`` and copied to the training device once; a
``torch.utils.data.Dataset`` is checked on its first sample and loaded batch
by batch (:class:`~sklearn_noisy._loading.LazyFeatures`). Labels may be any
classes; they are encoded as ``0 .. n_classes - 1``.
"""

import numpy as np
import torch
from sklearn.preprocessing import LabelEncoder
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ._data import is_training_data
from ._loading import LazyFeatures, dataset_labels, is_user_dataset, read_item, sample_input
from ._validation import (
    abbreviate,
    as_input_tensor,
    check_device,
    refuse_empty_axes,
    refuse_mapping,
    refuse_missing_labels,
    refuse_sparse,
    to_host,
)


class InputPreparation:
    """Mixin of the core estimator: what ``fit`` and ``predict`` accept.

    ``fit`` records ``input_shape_``, ``input_dtype_``, ``label_encoder_``
    (and scikit-learn's ``n_features_in_``/``feature_names_in_``).
    """

    @property
    def classes_(self):
        """Class labels seen at fit, in the order of the probability columns."""
        return self.label_encoder_.classes_

    def _prepare_training_data(self, X, y):
        """Validate (X, y) and set the input attributes.

        Returns
        -------
        X : torch.Tensor on ``self.device``, or the Dataset, checked
        y : torch.Tensor of int64 on ``self.device``
            Labels encoded as ``0 .. n_classes - 1``.
        labels : ndarray
            The labels as given.
        """
        if is_user_dataset(X) and not is_training_data(X):
            return self._prepare_training_dataset(X, y)
        refuse_mapping(X)
        refuse_sparse(X)
        if y is None:
            raise ValueError(
                f"{self.__class__.__name__} requires y to be passed, but the target "
                "y is None (only a Dataset of (input, label) pairs carries its own "
                "labels).")
        y = to_host(y)
        refuse_missing_labels(y, "y")
        X, y = validate_data(
            self,
            to_host(X),
            y,
            dtype=self._accepted_dtypes(),
            allow_nd=True,
        )
        encoded = self._encode_labels(y)
        self.input_shape_ = tuple(X.shape[1:])
        self.input_dtype_ = self._input_dtype(X.dtype)
        return as_input_tensor(X, self._device(), self.input_dtype_), encoded, y

    def _prepare_training_dataset(self, dataset, y):
        if len(dataset) == 0:
            raise ValueError(
                f"X is an empty Dataset: {self.__class__.__name__} needs at least "
                "one sample.")
        y = dataset_labels(dataset) if y is None else to_host(y)
        refuse_missing_labels(y, "y")
        y = column_or_1d(np.asarray(y), warn=True)
        if len(y) != len(dataset):
            raise ValueError(
                f"X is a Dataset of {len(dataset)} samples but y has {len(y)} labels.")
        encoded = self._encode_labels(y)
        first = sample_input(read_item(dataset, 0))
        self.input_shape_ = tuple(first.shape)
        self.input_dtype_ = self._input_dtype(first.dtype)
        refuse_empty_axes(self.input_shape_)
        # What validate_data records for arrays.
        self.n_features_in_ = self.input_shape_[0] if self.input_shape_ else 1
        vars(self).pop("feature_names_in_", None)
        return dataset, encoded, y

    def _lazy_features(self, dataset, seed=0, persistent=False):
        """The Dataset's loader; ``seed`` seeds its worker processes, which
        serve every pass until it is closed when ``persistent``."""
        train_params = self.get_params_for("iterator_train")
        train_params.pop("drop_last", None)
        return LazyFeatures(
            dataset, self.input_shape_, self.input_dtype_, check_device(self._device()),
            train_loader_params=train_params,
            eval_loader_params=self.get_params_for("iterator_valid"), seed=seed,
            persistent=persistent)

    def _encode_labels(self, y):
        check_classification_targets(y)
        self.label_encoder_ = LabelEncoder().fit(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"{self.__class__.__name__} needs samples of at least 2 classes, "
                f"but the data contains only one class: {self.classes_[0]!r}."
            )
        return torch.as_tensor(self.label_encoder_.transform(y), device=self._device())

    def _accepted_dtypes(self):
        # A user's network gets integer inputs (token ids) as they are; the
        # default networks and every floating input compute in float32.
        return [np.float32, np.float64] if self.module is None else "numeric"

    def _input_dtype(self, dtype):
        """The torch dtype the network receives for inputs of ``dtype``."""
        dtype = torch.empty(0, dtype=dtype).dtype if isinstance(dtype, torch.dtype) \
            else torch.from_numpy(np.empty(0, dtype=dtype)).dtype
        if self.module is None or dtype.is_floating_point:
            return torch.float32
        return dtype

    def _prepare_inference_data(self, X):
        check_is_fitted(self)
        if is_user_dataset(X) and not is_training_data(X):
            shape = tuple(sample_input(read_item(X, 0)).shape) if len(X) else None
            if shape != self.input_shape_:
                raise ValueError(
                    f"X is a Dataset of samples of shape {shape}, but "
                    f"{self.__class__.__name__} was fitted on samples of shape "
                    f"{self.input_shape_}.")
            return self._lazy_features(X)
        refuse_mapping(X)
        refuse_sparse(X)
        X = validate_data(
            self,
            to_host(X),
            reset=False,
            dtype=self._accepted_dtypes(),
            allow_nd=True,
        )
        if tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])}, but "
                f"{self.__class__.__name__} was fitted on samples of shape "
                f"{self.input_shape_}."
            )
        return as_input_tensor(X, self._device(), getattr(self, "input_dtype_", torch.float32))

    def _encode_known_labels(self, y, n_samples):
        """Given labels of held-out samples as column indices of ``classes_``."""
        y = column_or_1d(np.asarray(to_host(y)), warn=True)
        if len(y) != n_samples:
            raise ValueError(f"X has {n_samples} samples but y has {len(y)} labels.")
        unknown = np.setdiff1d(y, self.classes_)
        if len(unknown):
            raise ValueError(
                f"y contains label(s) {abbreviate(unknown)} that "
                f"{self.__class__.__name__} did not see in fit; its classes are "
                f"{abbreviate(self.classes_)}.")
        return self.label_encoder_.transform(y)
