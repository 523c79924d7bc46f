"""Training epoch and evaluation pass in NCHW against NHWC (channels-last).

The default SmallCNN on 3,000 1x28x28 images (Adam, batch 64) and
ResNet-32 on 512 3x32x32 images (SGD, batch 128); the evaluation pass runs
in batches of 256. Runs alternate in one process; medians of ``--repeats``.
This is what ``channels_last="auto"`` rests on.

Run: ``python benchmarks/bench_memory_format.py [--device cuda]``
"""

import argparse
import statistics
import time

import torch

from sklearn_noisy.networks import SmallCNN, resnet32

CASES = {
    "SmallCNN, 3,000 x 1x28x28": (lambda: SmallCNN((1, 28, 28), 4), (3000, 1, 28, 28), 64,
                                  torch.optim.Adam),
    "ResNet-32, 512 x 3x32x32": (lambda: resnet32((3, 32, 32), 10), (512, 3, 32, 32), 128,
                                 lambda params: torch.optim.SGD(params, lr=0.01)),
}


def layout(X, channels_last):
    return X.contiguous(memory_format=torch.channels_last) if channels_last else X


def train_epoch(network, X, y, batch_size, make_optimizer, channels_last):
    network.train()
    optimizer = make_optimizer(network.parameters())
    for indices in torch.randperm(len(X), device=X.device).split(batch_size):
        loss = torch.nn.functional.cross_entropy(
            network(layout(X[indices], channels_last)), y[indices])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def eval_pass(network, X, channels_last):
    network.eval()
    with torch.no_grad():
        for chunk in X.split(256):
            network(layout(chunk, channels_last))


def timed(function, device):
    start = time.perf_counter()
    function()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    device = torch.device(args.device)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}, "
          f"median of {args.repeats}")
    for name, (make_network, shape, batch_size, make_optimizer) in CASES.items():
        X = torch.rand(shape, device=device)
        y = torch.randint(0, 4, (shape[0],), device=device)
        networks = {False: make_network().to(device),
                    True: make_network().to(device).to(memory_format=torch.channels_last)}
        times = {}
        for _ in range(args.repeats):
            for channels_last, network in networks.items():
                times.setdefault(("train", channels_last), []).append(timed(
                    lambda: train_epoch(network, X, y, batch_size, make_optimizer,
                                        channels_last), device))
                times.setdefault(("eval", channels_last), []).append(timed(
                    lambda: eval_pass(network, X, channels_last), device))
        for part in ("train", "eval"):
            nchw = statistics.median(times[part, False])
            nhwc = statistics.median(times[part, True])
            print(f"{name:>26} {part:>5}: NCHW {nchw:.3f} s, NHWC {nhwc:.3f} s, "
                  f"speed-up {nchw / nhwc:.2f}x")


if __name__ == "__main__":
    main()
