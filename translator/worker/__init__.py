"""Where Django meets mlcore, and the only place in translator that imports it
(tests/translator/test_boundary.py walks the code to hold that).

- inference: what a conversion task runs (loaded-network cache, the memory budget, Gatys
  painting, encoding results, what a failure tells the user);
- training_runs: what a training task runs (the Trainer, stop poll, heartbeat, run log, progress)
  and what the admin's live page reads from a run's folder (metrics, log tail);
- datasets: a dataset's layout checked by its family;
- catalogue: checkpoints imported from other formats, read, and rendered as previews;
- families: what the admin's forms read about a family (training config class, dataset layout).

The web process imports parts of this package (services call it, the admin reads families),
so mlcore is imported inside the functions that need it: torch loads in a worker, or for the
admin's training pages, never for an ordinary page.
"""
