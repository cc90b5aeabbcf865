"""Run the test suite; a run that collects no test fails.

pytest exits with code 5 when it collects nothing, which a CI script could
mistake for "nothing failed". Here that is an error.
"""
import sys

import pytest

NO_TESTS_COLLECTED = 5


def main() -> int:
    code = pytest.main(['tests', '-q', '-ra', '-p', 'no:cacheprovider'] +
                       sys.argv[1:])
    if code == NO_TESTS_COLLECTED:
        print('run_tests: pytest collected no test: failing', file=sys.stderr)
        return 1
    return int(code)


if __name__ == '__main__':
    sys.exit(main())
