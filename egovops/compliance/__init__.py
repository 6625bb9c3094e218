"""Level-3 (等保2.0 三级) compliance: the control catalogue, testinfra checks, waivers and reports."""
