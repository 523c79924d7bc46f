"""Peak memory of ``IDNLabelCorruptor(strategy="projection").fit_resample`` for
K=1000 classes of d=3072 features (CIFAR-sized images, 100 times the classes).

Drawing every class's projection at once, a K x d x K float64 array, would take
K^2 * d * 8 bytes (about 24.6 GB here); the corruptor draws one d x K projection
per class instead. The measurement runs in a fresh process, so its peak resident
set (``resource.getrusage(...).ru_maxrss``) belongs to this fit alone (plus the
imports and X); tracemalloc gives the peak of the arrays allocated during
``fit_resample`` itself. The time is dominated by drawing the K^2 * d normal
entries, the same draws as before.

Run: ``python benchmarks/bench_projection_memory.py [--n-samples 3000]``
"""

import argparse
import json
import subprocess
import sys

LIMIT = 2 * 1024**3

MEASURE = """
import json, resource, time, tracemalloc
import numpy as np
from sklearn_noisy import IDNLabelCorruptor

n_samples, n_features, n_classes = {n_samples}, {n_features}, {n_classes}
rng = np.random.RandomState(0)
X = rng.standard_normal((n_samples, n_features)).astype(np.float32)
y = np.arange(n_samples) % n_classes  # every class present
rng.shuffle(y)
rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

corruptor = IDNLabelCorruptor(0.4, strategy="projection", random_state=0)
tracemalloc.start()
start = time.perf_counter()
corruptor.fit_resample(X, y)
seconds = time.perf_counter() - start
_, traced_peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print(json.dumps({{
    "seconds": seconds,
    "traced_peak": traced_peak,
    "rss_before": rss_before,
    "rss_peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
    "noise_rate": corruptor.noise_rate_,
}}))
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=int, default=3000)
    parser.add_argument("--n-features", type=int, default=3072)
    parser.add_argument("--n-classes", type=int, default=1000)
    args = parser.parse_args()

    code = MEASURE.format(n_samples=args.n_samples, n_features=args.n_features,
                          n_classes=args.n_classes)
    result = json.loads(subprocess.run([sys.executable, "-c", code], check=True,
                                       capture_output=True, text=True).stdout)
    old = args.n_classes ** 2 * args.n_features * 8
    gib = 1024**3
    print(f"fit_resample, strategy='projection': n={args.n_samples}, "
          f"d={args.n_features}, K={args.n_classes}, float32 X")
    print(f"  time                             {result['seconds']:8.1f} s "
          f"(realised noise rate {result['noise_rate']:.3f})")
    print(f"  traced peak during fit_resample  {result['traced_peak'] / gib:8.3f} GiB")
    print(f"  process peak RSS (whole process) {result['rss_peak'] / gib:8.3f} GiB "
          f"(before the fit: {result['rss_before'] / gib:.3f} GiB)")
    verdict = "yes" if max(result["traced_peak"], result["rss_peak"]) < LIMIT else "NO"
    print(f"  under 2 GiB                      {verdict}")
    print(f"  one K x d x K float64 draw       {old / gib:8.1f} GiB "
          f"({old / 1e9:.1f} GB, K^2 * d * 8 bytes, extrapolated, not run)")


if __name__ == "__main__":
    main()
