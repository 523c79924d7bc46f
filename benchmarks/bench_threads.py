"""Fit time of one estimator on one thread against two: the evidence for the
benchmark CLI's default of one process (and one thread) per CPU core.

Each configuration runs in its own fresh process, side by side in one run,
because torch fixes its thread pool per process.

Run: ``python benchmarks/bench_threads.py``
"""

import subprocess
import sys

FIT = """
import time, torch
torch.set_num_threads({threads})
from sklearn_noisy import {estimator}
from sklearn_noisy.benchmark.datasets import load_dataset
X, y = load_dataset("digits")
start = time.perf_counter()
{estimator}(random_state=0).fit(X[:1257], y[:1257])
print(time.perf_counter() - start)
"""


def main():
    for estimator in ("SEALClassifier", "FlywheelClassifier"):
        seconds = {
            threads: float(subprocess.run(
                [sys.executable, "-c", FIT.format(threads=threads, estimator=estimator)],
                check=True, capture_output=True, text=True).stdout)
            for threads in (1, 2)
        }
        print(f"{estimator:<20} 1 thread {seconds[1]:6.2f} s   2 threads {seconds[2]:6.2f} s   "
              f"two 1-thread processes do {2 * seconds[2] / seconds[1]:.2f}x the work "
              "of one 2-thread process", flush=True)


if __name__ == "__main__":
    main()
