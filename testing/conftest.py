"""Options shared by the scenario tiers in testing/ (loopback and netns)."""


def pytest_addoption(parser):
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite the scenarios' expected transcripts after an intended change "
                          "(same as PLUTO_UPDATE_GOLDEN=1)")


def pytest_configure(config):
    if config.getoption("--update-golden"):
        # The loopback tier reads the environment variable: one switch for both tiers.
        import os

        os.environ["PLUTO_UPDATE_GOLDEN"] = "1"
