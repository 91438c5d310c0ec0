import os

# Tests compile afresh and write nothing to the user's compilation cache
# (tests that check the cache give it a directory of their own).
os.environ["QNET_COMPILATION_CACHE"] = "off"
