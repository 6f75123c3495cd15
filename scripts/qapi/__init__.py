# The QAPI schema compiler behind scripts/qapi-gen.py (see docs/devel/qapi.md).
