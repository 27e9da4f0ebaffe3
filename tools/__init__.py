"""Make tooling: data generator, doctor, set-up extras, test runner and the demo.

Not part of the library learners read; it may import every stage.
"""
