"""The network edge: the one HTTP setup and error mapping shared by ``cliproxyapi/`` and ``sites/``."""
