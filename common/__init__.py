"""Code two or more stages share: schemas, settings, readers, sinks, clients.

Importing it also applies one fix to Spark's Python workers (they import this
package with the first task that runs our code), see below.
"""
import sys

if sys.version_info < (3, 13):
    import zipimport

    # Python 3.10 to 3.12 re-read a zip's whole table of contents in
    # zipimporter.invalidate_caches() (CPython issue gh-103200; lazy from 3.13).
    # Spark's Python worker calls importlib.invalidate_caches() before EVERY task
    # and imports pyspark from pyspark.zip, with one zipimporter per package of it:
    # each task re-read that zip (and spark-core's jar) dozens of times, 0.5-1 s of
    # CPU per task, measured with py-spy; at 1,000 plays/s that was more than half
    # of the workers' time. The zips on a worker's path do not change while it
    # lives (the project's own zip on a cluster is named after its content).
    zipimport.zipimporter.invalidate_caches = lambda self: None
