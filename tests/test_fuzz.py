"""A short pass of the netlink fuzzer (tests/fuzz_netlink.py) in the suite;
the long run (a million inputs) is run by hand: see that file."""

import fuzz_netlink


def test_mutated_kernel_bytes_raise_only_decode_error():
    assert fuzz_netlink.run(count=3000, seed=20261129) == 3000
