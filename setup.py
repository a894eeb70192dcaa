"""Package discovery: map the top-level folders into the one ``tesserad`` namespace.

Metadata lives in setup.cfg; this file only computes the package list so that a new
subpackage is shipped in the wheel without anyone having to remember to list it.
"""
from setuptools import find_packages, setup

SUBPACKAGES = {
    "core": "tesserad.core",
    "radius": "tesserad.radius",
    "pam_module": "tesserad.pam_module",
    "admin_web": "tesserad.admin_web",
    "daemon": "tesserad.daemon",
}

package_dir = {"tesserad": "_tesserad", **{pkg: folder for folder, pkg in SUBPACKAGES.items()}}
packages = ["tesserad"]
for folder, pkg in SUBPACKAGES.items():
    packages += [pkg] + [f"{pkg}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=package_dir)
