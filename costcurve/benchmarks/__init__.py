"""GPU serving benchmarks: result import, parameter objects, load generator, fake server, vLLM.

Everything here is pure or talks only to the endpoint under test; storing
points in the database is db/'s job.
"""

from costcurve.benchmarks.results import BenchmarkFormatError, import_result_file
from costcurve.core.benchmark_point import BenchmarkPoint

__all__ = ["BenchmarkFormatError", "BenchmarkPoint", "import_result_file"]
