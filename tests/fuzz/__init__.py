"""Fuzzing the readers with atheris (libFuzzer for Python): ``make fuzz``, see :mod:`tests.fuzz.run`."""
