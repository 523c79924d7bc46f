"""Run again the benchmark commands whose recorded output the docs quote.

The docs never hold a number typed by hand. Every table or figure they show
is either the verbatim standard output of one of the commands below,
recorded in ``docs/results/<name>.txt`` and shown with ``literalinclude``,
or drawn at build time (``docs/results_tables.py``) from the files such a
command wrote (``results.csv``, ``summary.json``, figures). Running this
script again brings every quoted figure up to date with the code::

    make docs-results                       # every record (several hours)
    make docs-results RECORDS="digits-idn"  # some of them
    python docs/record_results.py --list    # the records and their commands

A record is replaced only when its command succeeds. A command that writes
an output folder gets an empty one (the previous folder comes back if the
command fails or is interrupted), except the accuracy suite and the default
selection: they add to the fits of their ``results.csv`` and run only the
ones it lacks, so delete ``docs/results/accuracy-suite`` to fit them all
again (about 85 minutes).
"""

import argparse
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path("docs") / "results"


@dataclass(frozen=True)
class Record:
    """One recorded command: its output file, arguments and output folder."""

    name: str
    args: tuple  # after ``python``
    minutes: int  # about, on 2 CPU cores
    output: str | None = None  # folder the command writes, relative to the root
    threads: int | None = 1  # OMP_NUM_THREADS, None to leave it alone
    cuda: bool = False  # needs a CUDA device; skipped without one

    @property
    def path(self):
        return RESULTS / f"{self.name}.txt"

    @property
    def command(self):
        """The command line as a user would type it from the repository root."""
        prefix = "" if self.threads is None else f"OMP_NUM_THREADS={self.threads} "
        return f"{prefix}python {' '.join(self.args)}"


def _suite(*args):
    return ("benchmarks/bench_accuracy_suite.py", *args)


def _bench(script, *args):
    return (f"benchmarks/{script}.py", *args)


#: every record, in the order ``make docs-results`` runs them, roughly by page
#: (the default selection reads the accuracy suite's fits, so it comes after it)
RECORDS = (
    # benchmark.rst
    Record("digits-idn", ("-m", "sklearn_noisy.benchmark", "--output",
                          str(RESULTS / "digits-idn")),
           minutes=7, output=str(RESULTS / "digits-idn"), threads=None),
    Record("threads", _bench("bench_threads"), minutes=1, threads=None),
    # The suite and the default selection share one results.csv and reuse the
    # fits it holds (--resume), so that the selection's grid and the suite's
    # defaults are the same fits; remove the folder to fit everything again.
    Record("accuracy-suite", _suite("--resume", "--output", str(RESULTS / "accuracy-suite")),
           minutes=50),
    Record("select-defaults", ("benchmarks/select_defaults.py", "--output",
                               str(RESULTS / "accuracy-suite")), minutes=35),
    Record("select-defaults-all-noises", ("benchmarks/select_defaults.py", "--output",
                                          str(RESULTS / "accuracy-suite"), "--all-noises",
                                          "--methods", "flywheel"), minutes=10),
    Record("select-defaults-authors-rules",
           ("benchmarks/select_defaults.py", "--output", str(RESULTS / "accuracy-suite"),
            "--all-noises", "--methods", "confusion-em", "sln", "--settings",
            "confusion-em:eta_floor=1e-5", "sln:correction_reference=corrected"), minutes=10),
    # where a method loses to cross-entropy: settings that might help it there
    Record("select-defaults-seal-iterations",
           ("benchmarks/select_defaults.py", "--output", str(RESULTS / "accuracy-suite"),
            "--all-noises", "--methods", "seal", "--settings", "seal:n_iterations=3",
            "seal:n_iterations=5"), minutes=5),
    Record("select-defaults-eta-start",
           ("benchmarks/select_defaults.py", "--output", str(RESULTS / "accuracy-suite"),
            "--all-noises", "--methods", "confusion-em", "--settings",
            "confusion-em:eta_start_epoch=0.3", "confusion-em:eta_start_epoch=0.5"),
           minutes=3),
    Record("select-defaults-sln-epochs",
           ("benchmarks/select_defaults.py", "--output", str(RESULTS / "accuracy-suite"),
            "--all-noises", "--methods", "sln", "--settings", "sln:max_epochs=50",
            "sln:max_epochs=70"), minutes=3),
    # user_guide/corruptors.rst
    Record("projection-scale", _bench("bench_projection_scale"), minutes=1, threads=None),
    Record("many-classes", _bench("bench_many_classes"), minutes=2, threads=None),
    # user_guide/noisy_data.rst
    Record("label-issues-idn", _bench("bench_label_issues"), minutes=3),
    Record("label-issues-symmetric", _bench("bench_label_issues", "--noise", "symmetric",
                                            "--methods", "ce", "sln", "knn"), minutes=2),
    Record("noisy-model-selection", _bench("bench_noisy_model_selection"), minutes=3),
    # user_guide/seal.rst
    Record("seal-sln-digits", _bench("bench_seal_sln", "--part", "digits"), minutes=10),
    Record("seal-ce-curve", _bench("bench_seal_sln", "--part", "ce-curve"), minutes=2),
    Record("seal-sln-other", _bench("bench_seal_sln", "--part", "other"), minutes=6,
           threads=None),
    Record("seal-speed", _bench("bench_seal_speed"), minutes=2, threads=None),
    Record("seal-settings", _bench("bench_seal_settings"), minutes=40),
    # user_guide/sln.rst
    Record("sln-grid", _bench("bench_seal_sln", "--part", "sln-grid"), minutes=8,
           threads=None),
    Record("variants-sln", _bench("bench_variants", "--part", "sln"), minutes=3),
    # user_guide/confusion_em.rst
    Record("confusion-em-digits", _bench("bench_confusion_em", "--part", "digits"),
           minutes=4, threads=None),
    Record("variants-confusion-em", _bench("bench_variants", "--part", "confusion-em"),
           minutes=3),
    Record("flywheel-small-data", _bench("bench_flywheel", "--part", "small-data"),
           minutes=1),
    Record("confusion-em-small-data", _bench("bench_confusion_em", "--part", "small-data"),
           minutes=1),
    Record("confusion-em-grid", _bench("bench_confusion_em", "--part", "grid"), minutes=4,
           threads=None),
    Record("confusion-em-other", _bench("bench_confusion_em", "--part", "other"),
           minutes=2, threads=None),
    # user_guide/flywheel.rst
    Record("variants-flywheel", _bench("bench_variants", "--part", "flywheel"), minutes=7),
    Record("flywheel-transition", _bench("bench_flywheel", "--part", "transition"),
           minutes=2, threads=None),
    Record("flywheel-transition-variants",
           _bench("bench_flywheel", "--part", "transition-variants"), minutes=2,
           threads=None),
    Record("flywheel-pair-stability", _bench("bench_flywheel", "--part", "pair-stability"),
           minutes=6, threads=None),
    Record("flywheel-ablation", _bench("bench_flywheel", "--part", "ablation"), minutes=7,
           threads=None),
    Record("flywheel-other", _bench("bench_flywheel", "--part", "other"), minutes=3,
           threads=None),
    # design.rst
    Record("core-accuracy", _bench("bench_core_accuracy"), minutes=1, threads=None),
    Record("core-accuracy-configs", _bench("bench_core_accuracy", "--configs", "all"),
           minutes=8, threads=None),
    # CONTRIBUTING.rst
    Record("core-speed", _bench("bench_core_speed", "--repeats", "9"), minutes=2,
           threads=None),
    Record("concurrent-fits", _bench("bench_concurrent_fits"), minutes=2, threads=None),
    # user_guide/large_data.rst
    Record("dataset-memory", _bench("bench_dataset_memory"), minutes=5, threads=None),
    Record("precision", _bench("bench_precision"), minutes=3, threads=None),
    Record("inference-batch", _bench("bench_inference_batch"), minutes=2, threads=None),
    Record("core-speed-images", _bench("bench_core_speed", "--part", "images"), minutes=3,
           threads=None),
    Record("core-speed-dataset", _bench("bench_core_speed", "--part", "dataset"), minutes=3,
           threads=None),
    # user_guide/recipes.rst, on a GPU (benchmarks/gpu_check.sh runs the same)
    Record("epoch-time-cuda", _bench("bench_epoch_time", "--device", "cuda", "--precision",
                                     "bfloat16", "--channels-last", "true", "--methods",
                                     "ce", "sln", "flywheel"),
           minutes=1, threads=None, cuda=True),
    Record("epoch-time-cuda-compiled",
           _bench("bench_epoch_time", "--device", "cuda", "--precision", "bfloat16",
                  "--channels-last", "true", "--compile", "--compile-mode", "reduce-overhead",
                  "--fused-optimizer", "--methods", "ce", "sln"),
           minutes=1, threads=None, cuda=True),
)


def run(record, log=sys.stderr):
    """Run ``record``'s command; write its output file when it succeeds."""
    if record.cuda and not _has_cuda():
        print(f"{record.name}: needs a CUDA device; {record.path} is unchanged", file=log)
        return True
    environment = dict(os.environ)
    if record.threads is not None:
        environment["OMP_NUM_THREADS"] = str(record.threads)
    output = ROOT / record.output if record.output else None
    kept = output.with_name(output.name + ".previous") if output else None
    if output is not None and output.exists():
        shutil.rmtree(kept, ignore_errors=True)
        output.rename(kept)
    print(f"$ {record.command}   (about {record.minutes} min)", file=log, flush=True)
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, *record.args], cwd=ROOT, env=environment,
                              stdout=subprocess.PIPE, text=True)
    except BaseException:
        _restore(output, kept)
        raise
    if done.returncode != 0:
        _restore(output, kept)
        print(f"failed with exit status {done.returncode}; {record.path} is unchanged",
              file=log)
        return False
    (ROOT / record.path).write_text(f"$ {record.command}\n{done.stdout}", encoding="utf-8")
    if kept is not None:
        shutil.rmtree(kept, ignore_errors=True)
    print(f"{record.path} written ({(time.perf_counter() - start) / 60:.0f} min)", file=log)
    return True


def _has_cuda():
    import torch

    return torch.cuda.is_available()


def _restore(output, kept):
    if kept is not None and kept.exists():
        shutil.rmtree(output, ignore_errors=True)
        kept.rename(output)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="records to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the records and exit")
    args = parser.parse_args(argv)
    by_name = {record.name: record for record in RECORDS}
    unknown = [name for name in args.names if name not in by_name]
    if unknown:
        parser.error(f"unknown record(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(by_name)}")
    if args.list:
        width = max(len(record.name) for record in RECORDS)
        for record in RECORDS:
            print(f"{record.name:<{width}} ~{record.minutes:>3} min  {record.command}")
        return
    chosen = [by_name[name] for name in args.names] or list(RECORDS)
    failed = [record.name for record in chosen if not run(record)]
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
