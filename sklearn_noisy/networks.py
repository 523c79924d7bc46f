"""Default networks, chosen from the shape of X at fit time.

2-D data ``(n_samples, n_features)`` gets :class:`MLP`; images
``(n_samples, H, W)`` or ``(n_samples, C, H, W)`` get :class:`SmallCNN`.
Both return logits; the estimators apply the softmax. The papers' own
networks (:func:`wide_resnet`, :func:`preact_resnet18`, :func:`resnet32`,
:func:`seal_mnist_cnn`, :func:`resnet18`) are factories to pass as
``module=``; :func:`normalized` puts a fixed input normalisation in
front of any of them.
"""

import copy
import inspect
import math

import torch
from torch import nn

from ._docstrings import fill_docstring


def image_shape_with_channels(input_shape):
    """``(C, H, W)`` of a sample shape given as ``(H, W)`` or ``(C, H, W)``.

    Raises
    ------
    ValueError
        For any other sample shape, such as flattened images.
    """
    if len(input_shape) not in (2, 3):
        raise ValueError(
            "this network takes images, samples of shape (H, W) or (C, H, W), but the "
            f"samples have shape {tuple(input_shape)}. Flattened images need their "
            "shape back first, e.g. X.reshape(len(X), 28, 28) for 784 pixels.")
    return (1, *input_shape) if len(input_shape) == 2 else tuple(input_shape)


def with_channel_axis(X):
    """Add the channel axis to a ``(n, H, W)`` batch; pass others through."""
    return X.unsqueeze(1) if X.dim() == 3 else X


@fill_docstring()
class MLP(nn.Module):
    """Fully connected ReLU network returning logits.

    Parameters
    ----------
    n_features : int
        Number of input features.
    {n_classes}
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


@fill_docstring()
class SmallCNN(nn.Module):
    """Two convolution blocks and a linear head, for small images.

    Parameters
    ----------
    {input_shape}
    {n_classes}
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


@fill_docstring()
def default_network(input_shape, n_classes, **kwargs):
    """Build the default network for samples of ``input_shape``.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample: ``(n_features,)`` gives an :class:`MLP`,
        ``(H, W)`` or ``(C, H, W)`` a :class:`SmallCNN`.
    {n_classes}
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


@fill_docstring()
def resnet18(input_shape, n_classes):
    """torchvision's ResNet-18 with the CIFAR stem (3x3 stride-1 conv, no max-pool).

    The backbone of the SLN and LNL-flywheel papers' CIFAR experiments. Needs the
    optional ``torchvision`` dependency (``pip install sklearn_noisy[vision]``);
    usable as ``module=resnet18`` since it takes ``input_shape`` and ``n_classes``.

    Parameters
    ----------
    {input_shape}
    {n_classes}

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


# ----------------------------------------------------------------------
# The papers' networks, usable as ``module=`` of any estimator.
# ----------------------------------------------------------------------


def _conv3x3(in_channels, out_channels, stride=1):
    return nn.Conv2d(in_channels, out_channels, kernel_size=3, stride=stride,
                     padding=1, bias=False)


class _WideBlock(nn.Module):
    """Pre-activation basic block of a wide ResNet (BN-ReLU-conv twice)."""

    def __init__(self, in_channels, out_channels, stride, dropout):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = _conv3x3(in_channels, out_channels, stride)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.conv2 = _conv3x3(out_channels, out_channels)
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, kernel_size=1,
                                      stride=stride, bias=False)

    def forward(self, X):
        activated = torch.relu(self.bn1(X))
        # As in the reference code, a projection shortcut starts from the
        # activated input, an identity shortcut from the raw one.
        shortcut = X if self.shortcut is None else self.shortcut(activated)
        out = self.conv1(activated)
        out = self.conv2(self.dropout(torch.relu(self.bn2(out))))
        return out + shortcut


class _WideResNet(nn.Module):
    def __init__(self, in_channels, n_classes, depth, widen_factor, dropout):
        super().__init__()
        n_blocks = (depth - 4) // 6
        widths = [16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        layers = [_conv3x3(in_channels, 16)]
        width = 16
        for out_width, stride in zip(widths, (1, 2, 2)):
            for block in range(n_blocks):
                layers.append(_WideBlock(width, out_width,
                                         stride if block == 0 else 1, dropout))
                width = out_width
        layers += [nn.BatchNorm2d(width), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                   nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.fc = nn.Linear(width, n_classes)
        # The initialisation of Zagoruyko & Komodakis' released code.
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out",
                                        nonlinearity="relu")
            elif isinstance(module, nn.Linear):
                nn.init.zeros_(module.bias)

    def forward(self, X):
        return self.fc(self.features(with_channel_axis(X)))


@fill_docstring()
def wide_resnet(input_shape, n_classes, depth=28, widen_factor=10, dropout=0.0):
    """Wide residual network WRN-``depth``-``widen_factor`` for CIFAR-sized images.

    Zagoruyko & Komodakis, "Wide Residual Networks", BMVC 2016: a 3x3 stem
    convolution with 16 channels, then three groups of ``(depth - 4) / 6``
    pre-activation basic blocks (BN-ReLU-conv3x3, twice; 1x1 projection
    shortcut where the shape changes) with widths ``16k``, ``32k`` and
    ``64k`` and strides 1, 2 and 2, then BN-ReLU, global average pooling
    and a linear layer. WRN-28-10 is the SEAL paper's CIFAR-10 network
    (36,479,194 parameters on ``(3, 32, 32)`` inputs with 10 classes) and
    WRN-28-2 the SLN paper's (1,467,610 parameters).

    Parameters
    ----------
    {input_shape}
    {n_classes}
    depth : int, default=28
        Number of layers; ``depth - 4`` must be a multiple of 6.
    widen_factor : int, default=10
        The width multiplier ``k``.
    dropout : float, default=0.0
        Dropout probability between the two convolutions of each block.

    Returns
    -------
    {image_network}

    Raises
    ------
    ValueError
        If ``(depth - 4) % 6 != 0``.
    """
    if depth < 10 or (depth - 4) % 6 != 0:
        raise ValueError(
            f"depth must be 6n + 4 with n >= 1 (10, 16, 22, 28, ...); got {depth}."
        )
    in_channels = image_shape_with_channels(input_shape)[0]
    return _WideResNet(in_channels, n_classes, depth, widen_factor, dropout)


class _PreActBlock(nn.Module):
    """He et al.'s pre-activation basic block, as in DivideMix's code."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_channels)
        self.conv1 = _conv3x3(in_channels, out_channels, stride)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.conv2 = _conv3x3(out_channels, out_channels)
        self.shortcut = None
        if stride != 1 or in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, kernel_size=1,
                                      stride=stride, bias=False)

    def forward(self, X):
        activated = torch.relu(self.bn1(X))
        # The reference code projects the activated input but adds the raw
        # input on identity shortcuts (the identity-mapping design).
        shortcut = X if self.shortcut is None else self.shortcut(activated)
        out = self.conv2(torch.relu(self.bn2(self.conv1(activated))))
        return out + shortcut


class _PreActResNet18(nn.Module):
    def __init__(self, in_channels, n_classes):
        super().__init__()
        layers = [_conv3x3(in_channels, 64), nn.BatchNorm2d(64), nn.ReLU()]
        width = 64
        for out_width, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
            layers += [_PreActBlock(width, out_width, stride),
                       _PreActBlock(out_width, out_width, 1)]
            width = out_width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.linear = nn.Linear(width, n_classes)

    def forward(self, X):
        return self.linear(self.features(with_channel_axis(X)))


@fill_docstring()
def preact_resnet18(input_shape, n_classes):
    """PreAct ResNet-18 for CIFAR-sized images, as in DivideMix's code.

    He et al., "Identity Mappings in Deep Residual Networks", ECCV 2016, in
    the CIFAR form of DivideMix's code (Li et al., ICLR 2020), the backbone
    of the LNL-flywheel paper (Kim et al., 2024): a 3x3 stride-1 stem convolution
    with 64 channels followed by BN-ReLU (no max-pool), four stages of two
    pre-activation basic blocks with widths 64, 128, 256 and 512 (strides
    1, 2, 2, 2; 1x1 projection shortcuts), global average pooling and a
    linear layer. Like DivideMix's ``PreResNet.py``, the last block's output
    is pooled without a final BN-ReLU. 11,171,274 parameters on
    ``(3, 32, 32)`` inputs with 10 classes.

    Parameters
    ----------
    {input_shape}
    {n_classes}

    Returns
    -------
    {image_network}
    """
    in_channels = image_shape_with_channels(input_shape)[0]
    return _PreActResNet18(in_channels, n_classes)


class _ZeroPadShortcut(nn.Module):
    """Option-A shortcut: subsample by 2, then zero-pad the new channels."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        extra = out_channels - in_channels
        self.padding = (0, 0, 0, 0, extra // 2, extra - extra // 2)

    def forward(self, X):
        return nn.functional.pad(X[:, :, ::2, ::2], self.padding)


class _BasicBlock(nn.Module):
    """Post-activation basic block of He et al.'s CIFAR ResNets."""

    def __init__(self, in_channels, out_channels, stride):
        super().__init__()
        self.conv1 = _conv3x3(in_channels, out_channels, stride)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = _conv3x3(out_channels, out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)
        self.shortcut = nn.Identity()
        if stride != 1 or in_channels != out_channels:
            self.shortcut = _ZeroPadShortcut(in_channels, out_channels)

    def forward(self, X):
        out = torch.relu(self.bn1(self.conv1(X)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(X))


class _CifarResNet(nn.Module):
    def __init__(self, in_channels, n_classes, blocks_per_stage):
        super().__init__()
        layers = [_conv3x3(in_channels, 16), nn.BatchNorm2d(16), nn.ReLU()]
        width = 16
        for out_width, stride in ((16, 1), (32, 2), (64, 2)):
            for block in range(blocks_per_stage):
                layers.append(_BasicBlock(width, out_width,
                                          stride if block == 0 else 1))
                width = out_width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        self.features = nn.Sequential(*layers)
        self.linear = nn.Linear(width, n_classes)
        # He et al. initialise every weight layer with the "MSRA" scheme.
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight)

    def forward(self, X):
        return self.linear(self.features(with_channel_axis(X)))


@fill_docstring()
def resnet32(input_shape, n_classes):
    """He et al.'s CIFAR ResNet-32 with option-A (parameter-free) shortcuts.

    He et al., "Deep Residual Learning for Image Recognition", CVPR 2016,
    section 4.2; the CIFAR backbone of the confusing-instance paper (Wang
    et al., AAAI 2021). A 3x3 stem convolution with 16 channels, three stages of five
    post-activation basic blocks with widths 16, 32 and 64 (strides 1, 2,
    2), global average pooling and a linear layer. Where the shape changes,
    the shortcut is option A of the paper: the input subsampled by 2 and
    zero-padded with the new channels, which adds no parameters. 464,154
    parameters on ``(3, 32, 32)`` inputs with 10 classes (option-B
    projections would make it 466,906).

    Parameters
    ----------
    {input_shape}
    {n_classes}

    Returns
    -------
    {image_network}
    """
    in_channels = image_shape_with_channels(input_shape)[0]
    return _CifarResNet(in_channels, n_classes, blocks_per_stage=5)


class _SealMnistCNN(nn.Module):
    def __init__(self, input_shape, n_classes):
        super().__init__()
        in_channels, height, width = image_shape_with_channels(input_shape)
        # Two unpadded 5x5 convolutions, each followed by a 2x2 max-pool.
        for _ in range(2):
            height, width = (height - 4) // 2, (width - 4) // 2
        if min(height, width) < 1:
            raise ValueError(
                "seal_mnist_cnn needs images of at least 16x16 pixels; got "
                f"input_shape={tuple(input_shape)}."
            )
        self.layers = nn.Sequential(
            nn.Conv2d(in_channels, 20, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(20, 50, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(50 * height * width, 500), nn.ReLU(),
            nn.Linear(500, n_classes),
        )

    def forward(self, X):
        return self.layers(with_channel_axis(X))


@fill_docstring()
def seal_mnist_cnn(input_shape, n_classes):
    """The SEAL paper's MNIST CNN (a LeNet-style network with 20 and 50 filters).

    Chen et al., "Beyond Class-Conditional Assumption: A Primary Attempt to
    Combat Instance-Dependent Label Noise", AAAI 2021, appendix A: [conv
    5x5, 20 filters, stride 1, ReLU, max-pool /2]; [conv 5x5, 50 filters,
    stride 1, ReLU, max-pool /2]; [fully connected 4*4*50 -> 500, ReLU];
    [fully connected 500 -> n_classes]. 431,080 parameters on ``(1, 28, 28)``
    inputs with 10 classes; the first linear layer's input size follows
    from ``input_shape``, so other image sizes (at least 16x16) work too.

    Parameters
    ----------
    {input_shape}
    {n_classes}

    Returns
    -------
    {image_network}

    Raises
    ------
    ValueError
        If the images are smaller than 16x16.
    """
    return _SealMnistCNN(input_shape, n_classes)


# ----------------------------------------------------------------------
# Input normalisation inside the network, so that fit and predict share it.
# ----------------------------------------------------------------------
class Normalize(nn.Module):
    """Fixed per-channel standardisation ``(X - mean) / std`` of images.

    ``mean`` and ``std`` are buffers: they move with the network to its
    device, are saved in its ``state_dict`` and are never trained.

    Parameters
    ----------
    mean, std : sequence of float
        One value per channel (or a single value for all channels); every
        ``std`` must be positive.

    Raises
    ------
    ValueError
        If ``mean`` and ``std`` differ in length, are empty, or a ``std`` is
        not positive.
    """

    def __init__(self, mean, std):
        super().__init__()
        mean = torch.as_tensor(mean, dtype=torch.float32).reshape(-1)
        std = torch.as_tensor(std, dtype=torch.float32).reshape(-1)
        if len(mean) == 0 or mean.shape != std.shape:
            raise ValueError(
                "mean and std must hold one value per channel, as many of one as "
                f"of the other; got mean={mean.tolist()} and std={std.tolist()}.")
        if not bool((std > 0).all()):
            raise ValueError(f"every std must be positive; got std={std.tolist()}.")
        self.register_buffer("mean", mean.view(-1, 1, 1))
        self.register_buffer("std", std.view(-1, 1, 1))

    def forward(self, X):
        return (with_channel_axis(X) - self.mean) / self.std

    def extra_repr(self):
        mean = [round(value, 6) for value in self.mean.flatten().tolist()]
        std = [round(value, 6) for value in self.std.flatten().tolist()]
        return f"mean={mean}, std={std}"


class _NormalizedNetwork(nn.Module):
    def __init__(self, normalize, network):
        super().__init__()
        self.normalize = normalize
        self.network = network

    def forward(self, X):
        return self.network(self.normalize(X))


class _NormalizedFactory:
    """What :func:`normalized` returns: a ``module=`` factory."""

    def __init__(self, network, mean, std):
        self.network = network
        self.mean = mean
        self.std = std

    def __call__(self, input_shape, n_classes, **kwargs):
        network = build_network(self.network, input_shape, n_classes, kwargs)
        return _NormalizedNetwork(Normalize(self.mean, self.std), network)

    def __repr__(self):
        # A plain function or a class is named in full; anything else shows
        # its own repr, which for closures and partials holds a memory
        # address, so that checkpoint fingerprints (_checkpoint.describe)
        # look at this object's attributes instead of trusting the name.
        network = self.network
        plain = isinstance(network, type) or (
            inspect.isfunction(network) and network.__closure__ is None
            and network.__name__ != "<lambda>")
        name = f"{network.__module__}.{network.__qualname__}" if plain else repr(network)
        return f"normalized({name}, mean={self.mean!r}, std={self.std!r})"


def normalized(network, mean, std):
    """A ``module=`` factory: image ``network`` behind a fixed :class:`Normalize` layer.

    The normalisation is part of the network, so it applies to the batches
    of ``fit`` (after any augmentation, as torchvision applies
    ``Normalize`` after its crops and flips) and to the inputs of
    ``predict`` alike, and it travels with the fitted network through
    pickling. Routed ``module__*`` parameters go to ``network``::

        SEALClassifier(module=normalized(wide_resnet, mean=(0.4914, 0.4822, 0.4465),
                                         std=(0.2023, 0.1994, 0.2010)),
                       module__widen_factor=10)

    Parameters
    ----------
    network : callable
        A network class or a factory function, as accepted by ``module=``
        (it receives whichever of ``n_features``, ``input_shape`` and
        ``n_classes`` it takes).
    mean, std : float or sequence of float
        Per-channel mean and standard deviation of images ``(n, C, H, W)``
        or ``(n, H, W)``, in the units of ``X``.

    Returns
    -------
    factory : callable
        ``factory(input_shape, n_classes, **kwargs)`` builds the normalised
        network; it pickles, and it is described by ``network``, ``mean``
        and ``std`` in checkpoint fingerprints.

    Raises
    ------
    TypeError
        If ``network`` is a module instance or not callable. Put an instance
        behind the layer yourself: ``nn.Sequential(Normalize(mean, std),
        instance)``.
    ValueError
        If ``mean`` or ``std`` is not valid for :class:`Normalize`.
    """
    if isinstance(network, nn.Module) or not callable(network):
        raise TypeError(
            "network must be a network class or a factory function; got "
            f"{network!r}. For a module instance use "
            "nn.Sequential(Normalize(mean, std), instance).")
    Normalize(mean, std)  # refuse bad values now rather than at fit
    return _NormalizedFactory(network, _float_tuple(mean), _float_tuple(std))


def _float_tuple(values):
    return tuple(torch.as_tensor(values, dtype=torch.float64).reshape(-1).tolist())
