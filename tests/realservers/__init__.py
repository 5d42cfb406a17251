"""Real servers the tests run against, beside the emulator: the software itself, installed from
Debian's packages or npm, started once per test session on loopback (see fixtures.py)."""
