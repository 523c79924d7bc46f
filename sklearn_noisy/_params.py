"""scikit-learn's parameter contract on a skorch net.

skorch keeps its parameters in the instance ``__dict__`` next to its fitted
state and accepts any ``prefix__name`` keyword; scikit-learn expects the
``__init__`` signature to name the parameters, stored exactly as given and
checked against ``_parameter_constraints`` at fit time. :class:`SklearnParameters`
gives a skorch net the latter and keeps skorch's routed parameters.
"""

import difflib
import inspect

from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import validate_parameter_constraints

#: Prefixes of the skorch-style ``prefix__name=value`` keyword parameters.
ROUTED_PREFIXES = ("module__", "optimizer__", "callbacks__", "iterator_train__",
                   "iterator_valid__", "compile__")


def _did_you_mean(names, known):
    """``" (did you mean 'x'?)"`` for the known names closest to ``names``."""
    close = [match for name in names
             for match in difflib.get_close_matches(name, sorted(known), n=1)]
    return f" (did you mean {', '.join(map(repr, close))}?)" if close else ""


def signature_param_names(cls):
    """The parameters of ``cls.__init__``, as scikit-learn reads them.

    (skorch replaced scikit-learn's introspection of the signature by a scan
    of the instance ``__dict__``.) A mixin whose ``__init__`` passes
    ``*args`` on, such as skorch's ``AccelerateMixin``, which scikit-learn
    refuses, adds its named parameters to those of the class it passes
    them to.
    """
    named = []
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        parameters = inspect.signature(klass.__init__).parameters.values()
        if not any(p.kind is p.VAR_POSITIONAL for p in parameters):
            own = BaseEstimator.__dict__["_get_param_names"].__get__(None, klass)()
            return sorted({*named, *own})
        named += [p.name for p in parameters
                  if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    return sorted(named)


class SklearnParameters:
    """Mixin, placed before skorch's net: parameters as scikit-learn has them."""

    def __setattr__(self, name, value):
        # Parameters are stored exactly as given (scikit-learn's contract);
        # skorch's bookkeeping is only needed for fitted torch components,
        # whose names end in "_".
        if name.endswith("_"):
            super().__setattr__(name, value)
        else:
            object.__setattr__(self, name, value)

    # skorch's repr shows the fitted modules and hides the hyperparameters;
    # scikit-learn's shows the parameters that differ from their defaults.
    __repr__ = BaseEstimator.__repr__

    def _get_param_names(self):
        # The __init__ signature, plus the extra keywords stored by __init__
        # or set_params (skorch-style ``module__*`` parameters), so that
        # get_params/clone round-trip them.
        names = set(type(self)._signature_param_names())
        names.update(
            key for key in vars(self)
            if not key.startswith("_") and not key.endswith("_")
        )
        return sorted(names)

    @classmethod
    def _signature_param_names(cls):
        return signature_param_names(cls)

    def get_params(self, deep=True, **kwargs):
        """Get the parameters, including routed ``module__*`` style ones.

        Parameters
        ----------
        deep : bool, default=True
            Also return the parameters of the callbacks, as
            ``callbacks__<name>__<parameter>``.

        Returns
        -------
        params : dict
            Parameter names mapped to their values.
        """
        # Defined here only to give skorch's get_params a docstring.
        return super().get_params(deep=deep, **kwargs)

    def set_params(self, **params):
        """Set parameters, including routed ``module__*`` style ones.

        Returns
        -------
        self : estimator instance
        """
        valid = set(self._get_param_names())
        nested = {}
        for key, value in params.items():
            if key in valid or key.startswith(ROUTED_PREFIXES):
                setattr(self, key, value)
            elif "__" in key and key.split("__", 1)[0] in valid:
                name, sub_key = key.split("__", 1)
                nested.setdefault(name, {})[sub_key] = value
            else:
                raise ValueError(
                    f"Invalid parameter {key!r} for estimator "
                    f"{self.__class__.__name__}{_did_you_mean([key], valid)}. Valid "
                    f"parameters are: {sorted(valid)!r}."
                )
        for name, sub_params in nested.items():
            getattr(self, name).set_params(**sub_params)
        return self

    def _validate_params(self):
        # Replaces skorch's keyword check by scikit-learn's constraint check,
        # plus the checks that involve several parameters.
        params = self.get_params(deep=False)
        validate_parameter_constraints(
            self._parameter_constraints, params, caller_name=self.__class__.__name__
        )
        self._check_params()
        # A subclass may take its parents' parameters through **kwargs, as
        # scikit-learn's own checks allow.
        signature = {
            name for klass in type(self).__mro__
            if issubclass(klass, SklearnParameters) and "__init__" in vars(klass)
            for name in signature_param_names(klass)
        } | set(signature_param_names(type(self)))
        unknown = sorted(
            key for key in vars(self)
            if key not in signature and not key.startswith(ROUTED_PREFIXES)
            and not key.startswith("_") and not key.endswith("_")
        )
        if unknown:
            raise ValueError(
                f"{self.__class__.__name__} got unexpected parameter(s) {unknown}"
                f"{_did_you_mean(unknown, signature)}; extra keyword parameters must be "
                f"routed ones starting with {', '.join(ROUTED_PREFIXES)}."
            )

    def _check_params(self):
        """Checks across parameters, run with the constraints (override)."""
