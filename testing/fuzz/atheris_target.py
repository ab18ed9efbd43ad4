"""Coverage-guided fuzzing (atheris, libFuzzer) of the IKEv2 and IKEv1 message parsers and
the whack request decoder.

The first input byte picks the target; the rest is the input. The seed corpus is recorded
from an in-process exchange (IKEv2 and IKEv1: establish, rekeys, delete) and the whack
protocol samples::

    python testing/fuzz/atheris_target.py --make-corpus DIR
    python testing/fuzz/atheris_target.py DIR -atheris_runs=1000000

A failing check raises, and libFuzzer writes the input to ``crash-*`` in the working
directory: add it to tests as a regression input and fix the codec.
"""

from __future__ import annotations

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
for _path in (_HERE, os.path.join(_HERE, "..", "..", "tests"), os.path.join(_HERE, "..", "..")):
    if os.path.abspath(_path) not in sys.path:
        sys.path.insert(0, os.path.abspath(_path))

import atheris  # noqa: E402

with atheris.instrument_imports():
    import fuzz_codecs  # noqa: E402

    import pluto.packet.ikev1  # noqa: E402, F401
    import pluto.packet.ikev2  # noqa: E402, F401
    import pluto.whack_protocol  # noqa: E402, F401

TARGETS = (fuzz_codecs.check_ikev2_message, fuzz_codecs.check_ikev1_message,
           fuzz_codecs.check_whack_request)


def test_one_input(data: bytes) -> None:
    if data:
        TARGETS[data[0] % len(TARGETS)](data[1:])


def make_corpus(directory: str) -> int:
    import recorder

    os.makedirs(directory, exist_ok=True)
    recorded = recorder.record()
    inputs = [bytes([0]) + d for d in recorded["ikev2"]]
    inputs += [bytes([1]) + d for d in recorded["ikev1"]]
    inputs += [bytes([2]) + d for d in fuzz_codecs.WHACK_SEEDS]
    for i, data in enumerate(inputs):
        with open(os.path.join(directory, f"seed-{i:03d}"), "wb") as handle:
            handle.write(data)
    return len(inputs)


def main(argv: list[str]) -> None:
    if len(argv) == 3 and argv[1] == "--make-corpus":
        print(f"{make_corpus(argv[2])} seeds written to {argv[2]}")
        return
    atheris.Setup(argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
