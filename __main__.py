"""Pulumi entry point: `pulumi up` runs this. See components/program.py."""

import os

from components.program import build

# SHOP_SKIP_LAYER_BUILD=1 skips pip for the Lambda layer (a placeholder layer is deployed):
# for previews on machines without access to the package index.
build(build_dependencies=os.environ.get("SHOP_SKIP_LAYER_BUILD") != "1")
