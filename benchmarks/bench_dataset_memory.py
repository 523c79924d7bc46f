"""Peak memory of a fit on a Dataset too large to hold in memory.

100,000 images of 3x64x64 are generated lazily, one per item, from their
index (4.9 GB if held as one float32 array). CrossEntropyClassifier with
default loader settings trains one epoch on them and computes its noise
scores, in a child process whose address space is limited to 6 GiB. The
script prints the child's peak resident memory.

The network is a small strided CNN (``--network small``, the default) so
that the run takes minutes on a CPU; what is measured is the data
handling, whose memory does not depend on the network. ``--network
default`` trains the package's default SmallCNN instead (about 0.1 s per
image on two CPU cores).

Run: ``python benchmarks/bench_dataset_memory.py`` (``--n-samples`` for a
shorter run).
"""

import argparse
import resource
import subprocess
import sys
import time

ADDRESS_SPACE_LIMIT = 6 * 2**30
TARGET_PEAK_BYTES = 2.5 * 10**9

CHILD = """
import resource, sys, time
import numpy as np
import torch
from torch.utils.data import Dataset
from sklearn_noisy import CrossEntropyClassifier

class GeneratedImages(Dataset):
    def __init__(self, n_samples):
        self.n_samples = n_samples
        self.targets = np.arange(n_samples) % 10

    def __len__(self):
        return self.n_samples

    def __getitem__(self, index):
        generator = torch.Generator().manual_seed(index)
        image = torch.rand((3, 64, 64), generator=generator)
        image[index % 3] += 0.1 * (index % 10)
        return image, int(self.targets[index])

def small_cnn(input_shape, n_classes):
    return torch.nn.Sequential(
        torch.nn.Conv2d(input_shape[0], 16, kernel_size=4, stride=4), torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(16, n_classes))

n_samples, network = int(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
clf = CrossEntropyClassifier(max_epochs=1, batch_size=256, random_state=0,
                             module=small_cnn if network == "small" else None)
clf.fit(GeneratedImages(n_samples))
print(f"fit {n_samples} images in {time.perf_counter() - start:.0f} s; "
      f"{len(clf.noise_scores_)} noise scores")
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(f"peak resident memory {peak / 1e9:.2f} GB")
"""


def limit_address_space():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE_LIMIT, ADDRESS_SPACE_LIMIT))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=100_000)
    parser.add_argument("--network", choices=["small", "default"], default="small")
    args = parser.parse_args()
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(args.n_samples), args.network], preexec_fn=limit_address_space,
        capture_output=True, text=True)
    print(result.stdout, end="")
    if result.returncode != 0:
        print(result.stderr[-3000:], file=sys.stderr)
        sys.exit(f"the fit failed (exit {result.returncode}) under a "
                 f"{ADDRESS_SPACE_LIMIT / 2**30:.0f} GiB address-space limit")
    peak = float(result.stdout.rsplit("peak resident memory", 1)[1].split()[0]) * 1e9
    print(f"address-space limit {ADDRESS_SPACE_LIMIT / 2**30:.0f} GiB; peak "
          f"{peak / 1e9:.2f} GB; {time.perf_counter() - start:.0f} s in all")
    print(f"target < {TARGET_PEAK_BYTES / 1e9:.1f} GB: "
          f"{'met' if peak < TARGET_PEAK_BYTES else 'NOT met'}", file=sys.stderr)


if __name__ == "__main__":
    main()
