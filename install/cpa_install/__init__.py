"""Installer for the cpa-bridge native-messaging host (stdlib only, Python >= 3.9).

Modules: ``browsers`` (the browser x OS table), ``context`` (paths on this
machine), ``manifests`` (extension ids, host manifest build/validate),
``launcher`` (venv and launcher scripts), ``windows`` (registry), ``record``
(install record), ``ping`` (native-messaging ping), ``api`` (install /
uninstall / check), ``cli`` (command line).
"""
