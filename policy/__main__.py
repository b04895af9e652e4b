"""The shop's security rules as a Pulumi CrossGuard policy pack.

Run it against any stack: ``pulumi preview --policy-pack policy``. The rules are plain
functions in ``rules.py`` (tested offline over the program's own resources); ``pack.py``
wraps them in CrossGuard policies.
"""

import os
import sys

from pulumi_policy import EnforcementLevel, PolicyPack

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# The CLI runs this file with the pack folder as a plain directory, not a package.
from pack import policies

PolicyPack(name="shop-security", enforcement_level=EnforcementLevel.MANDATORY, policies=policies())
