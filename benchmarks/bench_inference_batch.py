"""Seconds of an evaluation pass by inference batch size, per kind of network.

The package evaluates whole training sets every epoch (SEAL's soft labels,
Flywheel's E-steps) and at prediction; this measures, on the CPU, which
number of rows per forward pass makes that fastest for the default MLP
(20,000 x 64 features) and the default SmallCNN (3,000 images of 1x28x28
and of 3x32x32, in the channels-last layout the estimators use for images), so
that ``sklearn_noisy.base.inference_batch_size`` rests on numbers.
With ``--device cuda`` it measures the same on a GPU.

Run: ``python benchmarks/bench_inference_batch.py``
"""

import argparse
import statistics
import time

import torch

from sklearn_noisy.base import eval_softmax
from sklearn_noisy.networks import MLP, SmallCNN

BATCH_SIZES = (64, 128, 256, 512, 1024, 2048, 4096)


def channels_last(network, X):
    return network(X.contiguous(memory_format=torch.channels_last))


def seconds_per_pass(network, X, batch_size, repeats):
    # Images run in the NHWC layout the estimators use for them.
    prepare = channels_last if X.dim() == 4 else None
    eval_softmax(network, X[: 2 * batch_size], batch_size=batch_size, prepare=prepare)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        eval_softmax(network, X, batch_size=batch_size, prepare=prepare)
        if X.device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.manual_seed(0)
    cases = {
        "MLP, 20,000 x 64": (MLP(64, 10), torch.randn(20_000, 64)),
        "SmallCNN, 3,000 x 1x28x28": (SmallCNN((1, 28, 28), 10), torch.rand(3_000, 1, 28, 28)),
        "SmallCNN, 3,000 x 3x32x32": (SmallCNN((3, 32, 32), 10), torch.rand(3_000, 3, 32, 32)),
    }
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"device {args.device}, median of {args.repeats}; seconds per pass at each "
          "batch size")
    print(f"{'network, data':<26}" + "".join(f"{size:>7}" for size in BATCH_SIZES)
          + "  fastest")
    for name, (network, X) in cases.items():
        network, X = network.to(args.device), X.to(args.device)
        if X.dim() == 4:
            network = network.to(memory_format=torch.channels_last)
        row = {size: seconds_per_pass(network, X, size, args.repeats) for size in BATCH_SIZES}
        best = min(row, key=row.get)
        print(f"{name:<26}" + "".join(f"{seconds:>7.3f}" for seconds in row.values())
              + f"  {best:>7}")


if __name__ == "__main__":
    main()
