"""egovops: infrastructure as code and platform operations for Anhui's 1+16+N e-government cloud.

Data flows one way: inventory -> model -> derived artefacts -> apply (lab or production) ->
check -> observe. See README.md for the map.
"""

__version__ = "0.1.0"
