#!/usr/bin/env python3
"""approve-step --api: the decision read through the Kubernetes API (list,
then a chunked watch over TLS) from the fake API server in tests/lib, as the
contract in the README and docs describe it: what it sends, what it accepts,
how it fails, how it recovers, and that the token never shows.

Every theme's tests in one run (meson's `api` test); each file also runs
alone: test_api_decisions.py (the stream's decisions and votes),
test_api_requests.py (requests, options, start failures), test_api_tls.py
(certificates), test_api_recovery.py (the stream's ends, retries, the
volume too). api_kit.py is what they share."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))

from cases import main  # noqa: E402
from test_api_decisions import Decisions, Votes  # noqa: E402,F401
from test_api_recovery import Backoff, Both, Recovery  # noqa: E402,F401
from test_api_requests import Requests, StartFailures, Usage  # noqa: E402,F401
from test_api_tls import (DNSHost, IPSanOnly, IPv6Host, OtherHost,  # noqa: E402,F401
                          ServiceNameOnly, WrongCA, Bundle, ClientCertificate)

if __name__ == "__main__":
    main()
