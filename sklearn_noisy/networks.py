"""Default networks, chosen from the shape of X at fit time.

2-D data ``(n_samples, n_features)`` gets :class:`MLP`; images
``(n_samples, H, W)`` or ``(n_samples, C, H, W)`` get :class:`SmallCNN`.
Both return logits; the estimators apply the softmax.
"""

import copy
import inspect
import math

from torch import nn


def image_shape_with_channels(input_shape):
    """``(C, H, W)`` of a sample shape given as ``(H, W)`` or ``(C, H, W)``."""
    return (1, *input_shape) if len(input_shape) == 2 else tuple(input_shape)


def with_channel_axis(X):
    """Add the channel axis to a ``(n, H, W)`` batch; pass others through."""
    return X.unsqueeze(1) if X.dim() == 3 else X


class MLP(nn.Module):
    """Fully connected ReLU network returning logits.

    Parameters
    ----------
    n_features : int
        Number of input features.
    n_classes : int
        Number of output logits.
    hidden_units : tuple of int, default=(256, 256)
        Width of each hidden layer.
    dropout : float, default=0.0
        Dropout probability after every hidden layer.
    """

    def __init__(self, n_features, n_classes, hidden_units=(256, 256), dropout=0.0):
        super().__init__()
        layers = []
        width = n_features
        for units in hidden_units:
            layers += [nn.Linear(width, units), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = units
        layers.append(nn.Linear(width, n_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, X):
        return self.layers(X.flatten(1))


class SmallCNN(nn.Module):
    """Two convolution blocks and a linear head, for small images.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W)`` or ``(C, H, W)`` of one sample.
    n_classes : int
        Number of output logits.
    channels : tuple of int, default=(32, 64)
        Output channels of the convolution blocks (3x3 conv, batch norm,
        ReLU, 2x2 max-pool when the map is still larger than 1 pixel).
    hidden_units : int, default=128
        Width of the hidden linear layer.
    dropout : float, default=0.0
        Dropout before the output layer.
    """

    def __init__(self, input_shape, n_classes, channels=(32, 64), hidden_units=128,
                 dropout=0.0):
        super().__init__()
        in_channels, height, width = image_shape_with_channels(input_shape)
        blocks = []
        for out_channels in channels:
            blocks += [
                nn.Conv2d(in_channels, out_channels, 3, padding=1),
                nn.BatchNorm2d(out_channels),
                nn.ReLU(),
            ]
            if min(height, width) >= 2:
                blocks.append(nn.MaxPool2d(2))
                height, width = height // 2, width // 2
            in_channels = out_channels
        self.features = nn.Sequential(*blocks)
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Linear(in_channels * height * width, hidden_units),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden_units, n_classes),
        )

    def forward(self, X):
        return self.head(self.features(with_channel_axis(X)))


def default_network(input_shape, n_classes, **kwargs):
    """Build the default network for samples of ``input_shape``.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample: ``(n_features,)`` gives an :class:`MLP`,
        ``(H, W)`` or ``(C, H, W)`` a :class:`SmallCNN`.
    n_classes : int
        Number of output logits.
    **kwargs
        Passed to the network's constructor (``module__*`` parameters).

    Returns
    -------
    network : torch.nn.Module
    """
    if len(input_shape) == 1:
        return MLP(input_shape[0], n_classes, **kwargs)
    if len(input_shape) in (2, 3):
        return SmallCNN(tuple(input_shape), n_classes, **kwargs)
    raise ValueError(
        "X must be 2-D (n_samples, n_features), 3-D (n_samples, H, W) or "
        f"4-D (n_samples, C, H, W); got {len(input_shape) + 1}-D."
    )


def build_network(module, input_shape, n_classes, kwargs):
    """Turn the ``module`` parameter of an estimator into a fresh network.

    ``None`` builds :func:`default_network`; a module class or a factory
    function is called with ``kwargs`` plus whichever of ``n_features``,
    ``input_shape`` and ``n_classes`` its signature accepts; a module instance is deep-copied,
    so every fit starts from the caller's weights and never changes them.
    """
    if module is None:
        return default_network(input_shape, n_classes, **kwargs)
    if isinstance(module, nn.Module):
        if kwargs:
            raise ValueError(
                "module__* parameters cannot be applied to a module instance; "
                "pass the module class instead."
            )
        return copy.deepcopy(module)
    if callable(module):
        inferred = {
            "n_features": math.prod(input_shape),
            "input_shape": tuple(input_shape),
            "n_classes": n_classes,
        }
        accepted = inspect.signature(module).parameters
        kwargs = {
            **{key: value for key, value in inferred.items() if key in accepted},
            **kwargs,
        }
        return module(**kwargs)
    raise TypeError(
        "module must be None, a torch.nn.Module subclass, a function returning "
        f"a module, or a torch.nn.Module instance; got {module!r}."
    )


def resnet18(input_shape, n_classes):
    """torchvision's ResNet-18 with the CIFAR stem (3x3 stride-1 conv, no max-pool).

    The backbone of the SLN and LNL-flywheel papers' CIFAR experiments. Needs the
    optional ``torchvision`` dependency (``pip install sklearn_noisy[vision]``);
    usable as ``module=resnet18`` since it takes ``input_shape`` and ``n_classes``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(H, W)`` or ``(C, H, W)`` of one sample.
    n_classes : int
        Number of output logits.

    Returns
    -------
    network : torch.nn.Module
        Randomly initialised (no pre-trained weights); accepts ``(n, H, W)``
        and ``(n, C, H, W)`` batches and returns logits.
    """
    try:
        from torchvision.models import resnet18 as torchvision_resnet18
    except ImportError as exc:
        raise ImportError(
            "resnet18 needs torchvision: pip install 'sklearn_noisy[vision]'."
        ) from exc
    in_channels = image_shape_with_channels(input_shape)[0]
    network = torchvision_resnet18(weights=None, num_classes=n_classes)
    network.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1,
                              bias=False)
    network.maxpool = nn.Identity()
    return _ChannelsFirst(network)


class _ChannelsFirst(nn.Module):
    """Adds the channel axis to (n, H, W) batches before ``network``."""

    def __init__(self, network):
        super().__init__()
        self.network = network

    def forward(self, X):
        return self.network(with_channel_axis(X))
