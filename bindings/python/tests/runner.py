"""Run the Python suite with pytest when the interpreter has it, else with a minimal runner.

Either way the last line is "test_python: N passed, N failed" and the exit status is 0 only
when nothing failed. Test modules use plain asserts and helpers.py (no pytest fixtures).
"""
import importlib.util
import os
import sys
import traceback


def run_with_pytest(directory):
    import pytest

    class Count:
        passed = failed = 0

        def pytest_runtest_logreport(self, report):
            if report.when == "call" and report.passed:
                Count.passed += 1
            elif report.failed:
                Count.failed += 1

    status = pytest.main(["-q", "-p", "no:cacheprovider", directory], plugins=[Count()])
    return Count.passed, Count.failed + (1 if status not in (0, 5) and not Count.failed else 0)


def run_plain(directory):
    passed = failed = 0
    sys.path.insert(0, directory)
    for name in sorted(os.listdir(directory)):
        if not (name.startswith("test_") and name.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(name[:-3], os.path.join(directory, name))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for attr in sorted(vars(module)):
            test = getattr(module, attr)
            if not (attr.startswith("test_") and callable(test)):
                continue
            try:
                test()
            except Exception:
                failed += 1
                print("FAIL %s::%s" % (name, attr))
                traceback.print_exc()
            else:
                passed += 1
                print("ok   %s::%s" % (name, attr))
    return passed, failed


def main():
    directory = sys.argv[1]
    try:
        import pytest  # noqa: F401
        passed, failed = run_with_pytest(directory)
    except ImportError:
        print("(pytest is not installed for %s; using the plain runner)" % sys.executable)
        passed, failed = run_plain(directory)
    print("test_python: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
