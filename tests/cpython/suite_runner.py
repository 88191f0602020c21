"""Runs a selection of CPython's own fork-related tests inside the interpreter under test and
writes one outcome per test id (ok, FAIL, ERROR, skipped, expected-failure, unexpected-success)
as JSON, so that a native run and a run under forksan can be compared test by test.

It is started by tests/cpython/run_suites.py with the interpreter being tested, natively or
under `forksan run`, and must stay valid Python 3.8.  Tests are loaded the way CPython loads
them: plain modules through unittest, the multiprocessing tests through
test._test_multiprocessing.install_tests_in_module_dict(..., 'fork'), exactly what
test_multiprocessing_fork does (some pyenv builds do not ship that module, but all ship
_test_multiprocessing).  Like CPython's regrtest, a faulthandler watchdog dumps every thread's
traceback and exits when the selection hangs.

usage: suite_runner.py RESULTS.json WATCHDOG_SECONDS SPEC...
  SPEC  module[:Class[.method]]      e.g. test.test_fork1, test.test_os:ForkTests
        module::substring            every test of the module whose method name contains it
        mp:Class[.method]            a class made by install_tests_in_module_dict, e.g.
                                     mp:WithProcessesTestLock
"""
import faulthandler
import json
import os
import sys
import types
import unittest


def mp_module():
    """The module test_multiprocessing_fork would be, built under a private name."""
    name = "forksan_mp_fork"
    mod = sys.modules.get(name)
    if mod is None:
        from test import _test_multiprocessing
        mod = types.ModuleType(name)
        sys.modules[name] = mod
        _test_multiprocessing.install_tests_in_module_dict(mod.__dict__, "fork")
    return mod


def iter_tests(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from iter_tests(item)
        else:
            yield item


def load(spec, loader):
    """The tests one SPEC names, as a list (empty when it names nothing)."""
    if spec.startswith("mp:"):
        return list(iter_tests(loader.loadTestsFromName(spec[3:], mp_module())))
    if "::" in spec:
        modname, sub = spec.split("::", 1)
        mod = __import__(modname, fromlist=["_"])
        return [t for t in iter_tests(loader.loadTestsFromModule(mod))
                if sub in getattr(t, "_testMethodName", "")]
    if ":" in spec:
        modname, rest = spec.split(":", 1)
        mod = __import__(modname, fromlist=["_"])
        return list(iter_tests(loader.loadTestsFromName(rest, mod)))
    mod = __import__(spec, fromlist=["_"])
    return list(iter_tests(loader.loadTestsFromModule(mod)))


def test_key(test):
    """A stable id: module name replaced by nothing for the synthetic multiprocessing module."""
    tid = test.id()
    return tid[len("forksan_mp_fork."):] if tid.startswith("forksan_mp_fork.") else tid


class Recorder(unittest.TextTestResult):
    """TextTestResult that also keeps one outcome per test id."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.outcomes = {}

    def _set(self, test, outcome):
        key = test_key(test)
        # A test with subtests: any failing subtest makes the test FAIL/ERROR.
        previous = self.outcomes.get(key)
        if previous in ("FAIL", "ERROR") and outcome == "ok":
            return
        self.outcomes[key] = outcome

    def addSuccess(self, test):
        super().addSuccess(test)
        self._set(test, "ok")

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._set(test, "FAIL")

    def addError(self, test, err):
        super().addError(test, err)
        # Errors in setUpModule/setUpClass come as _ErrorHolder objects.
        self._set(test, "ERROR")

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._set(test, "skipped")

    def addExpectedFailure(self, test, err):
        super().addExpectedFailure(test, err)
        self._set(test, "expected-failure")

    def addUnexpectedSuccess(self, test):
        super().addUnexpectedSuccess(test)
        self._set(test, "unexpected-success")

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            self._set(test, "FAIL" if issubclass(err[0], test.failureException) else "ERROR")


def main(argv):
    if len(argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    results_path, watchdog, specs = argv[1], float(argv[2]), argv[3:]
    if watchdog > 0:
        faulthandler.dump_traceback_later(watchdog, exit=True)
    loader = unittest.TestLoader()
    suite = unittest.TestSuite()
    loaded = {}
    seen = set()
    for spec in specs:
        try:
            tests = load(spec, loader)
        except unittest.SkipTest as exc:
            loaded[spec] = "skipped: %s" % exc
            continue
        except Exception as exc:  # a module this CPython does not have: say so, keep going
            loaded[spec] = "not loadable: %s: %s" % (type(exc).__name__, exc)
            continue
        # A name this CPython lacks (test_os.ForkTests before 3.9) loads as a _FailedTest.
        missing = [t for t in tests if type(t).__name__ == "_FailedTest"]
        if missing:
            loaded[spec] = "not present in this CPython"
            continue
        # Specs may overlap (a class and a name pattern): each test runs once.
        tests = [t for t in tests if t.id() not in seen]
        seen.update(t.id() for t in tests)
        loaded[spec] = len(tests)
        suite.addTests(tests)
    runner = unittest.TextTestRunner(stream=sys.stderr, verbosity=2, resultclass=Recorder)
    me = os.getpid()
    result = runner.run(suite)
    if os.getpid() != me:  # a forked child that fell through a test: never write for it
        os._exit(1)
    faulthandler.cancel_dump_traceback_later()
    with open(results_path, "w") as f:
        json.dump({"python": sys.version.split()[0], "loaded": loaded,
                   "outcomes": result.outcomes}, f, indent=1, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
