"""The pure core: merge rules, edits of a provider list, URL rules, masking.

No I/O and no imports of the other layers (except :mod:`cpa_bridge.errors`); everything
here is a function of its arguments and is unit-tested in-process.
"""
