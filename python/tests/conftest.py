"""pytest setup: the package from this source tree, unique run names."""
import itertools
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

_count = itertools.count()


@pytest.fixture
def run_name():
    """A run name unique to this process and test (region dshq-NAME); tests/run.sh
    removes regions carrying DSHQ_TEST_TAG if a test dies before closing."""
    tag = os.environ.get("DSHQ_TEST_TAG")
    return "test-%spy%d-%d" % (tag + "-" if tag else "", next(_count), os.getpid())
