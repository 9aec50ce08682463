"""GradFlip: explain an image classifier's decision by the change that flips it (by default the smallest region whose detail removal alone flips it)."""

import os as _os

__version__ = "0.1.0"

# MKL's strict numerical reproducibility (Intel's CNR): matrix products give the same bits at any thread count, so
# an explanation does not depend on how many cores compute it. The searches walk the decision boundary, where the last
# bits decide: the sample cat's key region was 52 % of the photo at one thread and 57 % at two (docs/benchmarks.md,
# "Thread count"). Read by MKL at its first product, so it is set before torch computes anything; a value of your own wins.
_os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")
