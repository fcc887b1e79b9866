"""``accel sweep SPEC.yaml``: many independent RTL builds (models x foldings x seeds x simulators x samples x parts),
each built, estimated and co-simulated in its own content-addressed folder, run on Dask (docs/sweep.md).

Why a package of its own: the sweep sits above the steps it chains (:mod:`accel.steps` build, the RTL
co-simulation, :mod:`accel.report`'s estimates) and below nothing but the CLI.  ``spec`` reads and expands the
YAML, ``jobs`` runs one job (a plain function of its spec dict), ``run`` hands the jobs to Dask, ``results``
writes the table and the Pareto chart.  Dask is imported only by ``run``, so ``accel --help`` stays fast.
"""
